import TesseraCore

/// The one timeline of a run, in engine picoseconds, for every family: what the Chrome-trace
/// writer and the schedule renderer draw. A family's lane provider fills it from its plan and
/// simulation (an accelerator's arrays and DRAM channel, a training step's GPU classes and busiest
/// links, a serving run's instances, a collective benchmark's sizes); the writers know nothing of
/// families.
///
/// Structure, outermost first:
/// - a **process** (a trace's `pid`), e.g. one accelerator, one class of GPUs, one serving instance;
/// - a **lane** (the picture's titled block): consecutive rows with the same `lane` name;
/// - a **row** (a trace's track, the picture's row of boxes), with a style: `band` (a strip of
///   spans above the lanes, such as each layer's span on the critical path), `tall`, `normal` or
///   `thin`;
/// - **spans** on rows: a start, an end, a name, a category (its colour and trace category), the
///   keys that decide which spans may merge into one box in a picture, and the details a trace
///   shows (`args`). Gaps (a stalled array) are spans too, drawn beneath the boxes.
///
/// A row of the trace must not hold overlapping spans unless they nest; providers give a
/// resource's occupancy (a DRAM transfer without its latency, a link's busy intervals merged).
public struct Timeline: Sendable {
    /// A detail of a span or of the run (a trace's `args`, a picture's tooltip).
    public enum Value: Sendable, Hashable {
        case string(String), int(Int64), uint(UInt64), double(Double)
    }

    public struct Row: Sendable {
        public enum Style: Sendable { case band, tall, normal, thin }
        public var process: Int
        /// The titled block of the picture this row belongs to.
        public var lane: String
        /// The row's title in the picture ("" for none) and its track's name in a trace.
        public var title: String
        public var track: String
        public var style: Style
        public init(process: Int, lane: String, title: String, track: String, style: Style) {
            self.process = process
            self.lane = lane
            self.title = title
            self.track = track
            self.style = style
        }
    }

    public struct Span: Sendable {
        public var row: Int
        public var start: Picoseconds
        public var end: Picoseconds
        public var name: String
        /// Colour and trace category: `compute`, `load`, `stall`, `forward`, `tp`, `prefill`, …
        public var category: String
        /// Spans merge into one box only with the same category and key (an operation's index; 0 merges any).
        public var key: Int
        /// The coarser key boxes merge by when there are too many (a layer block).
        public var coarseKey: Int
        public var bytes: UInt64
        /// A gap (stall, idle, waiting): drawn beneath the boxes and counted apart.
        public var isGap: Bool
        public var args: [(String, Value)]
        public init(
            row: Int, start: Picoseconds, end: Picoseconds, name: String, category: String, key: Int = 0, coarseKey: Int = 0, bytes: UInt64 = 0,
            isGap: Bool = false, args: [(String, Value)] = []
        ) {
            self.row = row
            self.start = start
            self.end = end
            self.name = name
            self.category = category
            self.key = key
            self.coarseKey = coarseKey
            self.bytes = bytes
            self.isGap = isGap
            self.args = args
        }
    }

    /// A value over time (a trace's counter track): power, a clock.
    public struct Counter: Sendable {
        public var name: String
        /// The trace's `args` key of each sample (`watts`, `MHz`).
        public var unit: String
        public var samples: [(at: Picoseconds, value: Double)]
        public init(name: String, unit: String, samples: [(at: Picoseconds, value: Double)]) {
            self.name = name
            self.unit = unit
            self.samples = samples
        }
    }

    /// The picture's title and the comment at the top of its DOT text.
    public var title: String
    public var comment: String
    /// The end of the run.
    public var end: Picoseconds
    /// The clock period of clocked hardware: the picture's axis counts its cycles and
    /// `--from 1500cycles` means them; nil where there is no single clock (a GPU cluster).
    public var clockPeriod: Picoseconds?
    public var processes: [String] = []
    public var rows: [Row] = []
    public var spans: [Span] = []
    public var counters: [Counter] = []
    /// Which counter's process: counters get their own process named this.
    public var counterProcess = "counters"
    /// The picture's legend, in order: a category and what it means (categories not drawn are left out).
    public var legend: [(category: String, label: String)] = []
    /// Details of the run for the trace's `otherData`.
    public var metadata: [(String, Value)] = []
    /// What the provider simplified, for the picture's notes.
    public var notes: [String] = []

    public init(title: String, comment: String, end: Picoseconds, clockPeriod: Picoseconds? = nil) {
        self.title = title
        self.comment = comment
        self.end = end
        self.clockPeriod = clockPeriod
    }

    /// Adds a process and returns its index.
    public mutating func process(_ name: String) -> Int {
        processes.append(name)
        return processes.count - 1
    }

    /// Adds a row and returns its index.
    public mutating func row(process: Int, lane: String, title: String, track: String? = nil, style: Row.Style = .normal) -> Int {
        rows.append(Row(process: process, lane: lane, title: title, track: track ?? (title.isEmpty ? lane : title), style: style))
        return rows.count - 1
    }

    /// Seconds from the start as picoseconds (rounded, saturating), for providers whose results are in seconds.
    public static func picoseconds(_ seconds: Double) -> Picoseconds { Saturating.uint64Rounded(seconds * 1e12) }

    /// A power counter from an energy account's windows: a sample where the power changes, zero at the end.
    public static func powerCounter(_ energy: EnergyAccount) -> Counter {
        var samples: [(at: Picoseconds, value: Double)] = []
        var previous: Double? = nil
        for (w, watts) in energy.windowWatts.enumerated() where watts != previous {
            samples.append((picoseconds(Double(w) * energy.windowSeconds), watts))
            previous = watts
        }
        if !energy.windowWatts.isEmpty { samples.append((picoseconds(energy.seconds), 0)) }
        return Counter(name: "power", unit: "watts", samples: samples)
    }
}
