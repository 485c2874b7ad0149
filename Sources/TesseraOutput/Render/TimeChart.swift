import TesseraCore

/// A Gantt picture with pinned positions (rendered by `nop`, `neato -n`): a window of simulated
/// seconds mapped onto `width` points right of `left`, boxes and text placed in points, a time
/// axis and a legend. The training-step and serving schedules draw on it; the window comes from
/// `--from`/`--to` in nanoseconds.
struct TimeChart {
    let from: Double
    let to: Double
    let left: Double
    let width: Double
    /// Boxes narrower than this many points are widened to it (still visible).
    let minWidth: Double
    private(set) var text = ""
    private var count = 0
    private let windowed: Bool

    /// The window of `options` inside a run of `total` seconds, or an error for an empty window or
    /// one that starts after the run.
    init(options: ScheduleDOT.Options, total: Double, left: Double, minWidth: Double = 0.5) throws(InputError) {
        if let a = options.from, let b = options.to, b <= a {
            throw InputError(Diagnostic(at: nil, "the window is empty", expected: "--from below --to", found: "--from \(a) --to \(b)"))
        }
        let from = Double(options.from ?? 0) * 1e-9
        if from >= total {
            throw InputError(Diagnostic(at: nil, "--from \(options.from ?? 0) is past the end of the run", expected: "a time in ns below \(UInt64(total * 1e9))"))
        }
        self.from = from
        self.to = min(options.to.map { Double($0) * 1e-9 } ?? total, total)
        self.left = left
        self.width = options.width
        self.minWidth = minWidth
        self.windowed = options.from != nil || options.to != nil
    }

    var span: Double { max(to - from, 1e-12) }
    /// Half a point of time: runs closer than this are one box.
    var quantum: Double { span / width * 0.5 }
    func x(_ t: Double) -> Double { left + (min(max(t, from), to) - from) / span * width }

    /// The DOT preamble: a comment, the title (with the window when one was asked for) and the
    /// default box style.
    mutating func begin(comment: String, title: String) {
        text += "// \(comment) Positions are pinned, in points:\n// render with `neato -n2 -Tsvg` (or `tessera render schedule`).\ndigraph schedule {\n"
        let window = windowed ? "\nwindow: \(DOTText.seconds(from)) to \(DOTText.seconds(to))" : ""
        text +=
            "  graph \(DOTText.attributes([("splines", "false"), ("outputorder", "nodesfirst"), ("bgcolor", "white"), ("pad", "0.25"), ("fontname", "Helvetica"), ("fontsize", "18"), ("labelloc", "t"), ("label", DOTText.literal(title) + window + "\n ")]))\n"
        text +=
            "  node \(DOTText.attributes([("shape", "box"), ("style", "filled"), ("fixedsize", "true"), ("pin", "true"), ("fontname", "Helvetica"), ("fontsize", "9"), ("penwidth", "0.6"), ("label", "")]))\n"
    }

    /// A node centred at (x, y), `w` × `h` points.
    mutating func node(_ pairs: [(String, String)], x: Double, y: Double, w: Double, h: Double) {
        text += "  n\(count) \(DOTText.attributes([("pos", "\(DOTText.number(x)),\(DOTText.number(y))!"), ("width", DOTText.number(max(w, minWidth) / 72)), ("height", DOTText.number(h / 72))] + pairs))\n"
        count += 1
    }

    /// A box from time `start` to `end` on row `y`, coloured (fill, line), with a tooltip.
    mutating func box(_ start: Double, _ end: Double, y: Double, h: Double, color: (String, String), tooltip: String) {
        let x0 = x(start), x1 = x(end)
        node([("fillcolor", color.0), ("color", color.1), ("tooltip", DOTText.literal(tooltip))], x: (x0 + x1) / 2, y: y, w: max(x1 - x0, 0.5), h: h)
    }

    mutating func label(_ label: String, x: Double, y: Double, w: Double, h: Double = 12, size: Double = 10, color: String = "#222222") {
        node([("shape", "plaintext"), ("style", ""), ("label", label), ("fontsize", DOTText.number(size)), ("fontcolor", color)], x: x, y: y, w: w, h: h)
    }

    /// A lane's background from `top` to `bottom` and its title at the left.
    mutating func lane(_ title: String, top: Double, bottom: Double, titleWidth: Double) {
        node([("fillcolor", "#fafafa"), ("color", "#dddddd")], x: left + width / 2, y: (top + bottom) / 2, w: width, h: top - bottom)
        label(DOTText.literal(title).replacingOccurrences(of: "\n", with: "\\l") + "\\l", x: 8 + titleWidth / 2, y: (top + bottom) / 2, w: titleWidth, h: 28, size: 11)
    }

    /// Five times along the bottom at `y`, and the legend below them.
    mutating func finish(axisY y: Double, legend: [(color: (String, String), label: String)]) {
        for k in 0...4 {
            let t = from + span * Double(k) / 4
            label(DOTText.seconds(t), x: x(t), y: y, w: 70, size: 9)
        }
        var lx = left
        for item in legend {
            node([("fillcolor", item.color.0), ("color", item.color.1)], x: lx + 6, y: y - 22, w: 12, h: 10)
            label(item.label + "\\l", x: lx + 16 + Double(item.label.count) * 2.75, y: y - 22, w: Double(item.label.count) * 5.5, size: 9)
            lx += max(100, Double(item.label.count) * 5.5 + 36)
        }
        text += "}\n"
    }
}
