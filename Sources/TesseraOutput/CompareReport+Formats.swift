import Foundation
import TesseraCore

extension CompareReport {
    /// The verdict, the top-level figures, the layers that moved most and any layers added or
    /// removed, as Markdown (for the terminal and for CI job summaries).
    public func markdown(topLayers: Int = 10) -> String {
        var s = "# tessera compare: \(mdText(workload)) on \(mdText(hardware))\n\n"
        s += verdict() + "\n"
        s += "Baseline `\(baselinePath)`, current `\(currentPath)`; tolerance \(tolerance.summary)\(strict ? ", strict" : "").\n\n"
        s += "| metric | baseline | current | delta % | status |\n| --- | ---: | ---: | ---: | --- |\n"
        for f in figures {
            s +=
                "| \(f.metric.rawValue) | \(Self.value(f.baseline, f.metric)) | \(Self.value(f.current, f.metric)) | \(Self.deltaText(f.change)) | \(statusText(f)) |\n"
        }
        let moved = layers.filter(\.moved)
        let top = layersThatMovedMost(limit: topLayers)
        s += "\n## Layers that moved most\n\n"
        if top.isEmpty {
            s += layers.isEmpty ? "No layers in common.\n" : "No layer moved: all \(layers.count) layers in common have the same cycles.\n"
        } else {
            s += "\(moved.count) of \(layers.count) layers in common moved"
            s += moved.count > top.count ? "; the \(top.count) that moved most:\n\n" : ":\n\n"
            s += "| layer | total cycles | delta % | compute cycles | delta % | stall cycles | delta % | status |\n"
            s += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
            for l in top {
                var row = "| \(mdText(l.name)) "
                for m in [CompareMetric.totalCycles, .computeCycles, .stallCycles] {
                    guard let f = l.figures.first(where: { $0.metric == m }) else {
                        row += "| | "
                        continue
                    }
                    row += "| \(Self.value(f.baseline, m)) → \(Self.value(f.current, m)) | \(Self.deltaText(f.change)) "
                }
                row += "| \(layerStatus(l)) |\n"
                s += row
            }
            let beyond = moved.filter { l in !top.contains { $0.name == l.name } && l.figures.contains { $0.status == .regression || $0.status == .improvement }
            }
            if !beyond.isEmpty {
                s += "\nAlso beyond tolerance: " + beyond.map { mdText($0.name) + " (" + layerStatus($0) + ")" }.joined(separator: ", ") + ".\n"
            }
        }
        if layersDiffer {
            s += "\n## Layers added or removed: FAIL\n\n"
            s += "The two reports do not have the same layers, so they describe different workload shapes and are not "
            s += "comparable layer by layer. This fails the comparison whatever the tolerance; if the change is intended, "
            s += "re-record the baseline (`scripts/regress.sh --record` or `make golden`).\n\n"
            if !removedLayers.isEmpty {
                s += "- only in the baseline (removed, \(removedLayers.count)): " + removedLayers.map(mdText).joined(separator: ", ") + "\n"
            }
            if !addedLayers.isEmpty {
                s += "- only in the current report (added, \(addedLayers.count)): " + addedLayers.map(mdText).joined(separator: ", ") + "\n"
            }
        }
        return s
    }

    /// One paragraph: PASS or FAIL and why.
    public func verdict() -> String {
        let regressions = regressions
        let improvements = improvements
        if !gates {
            var s = "**A/B** of two designs (not a gate: exit 0; --gate fails on what is worse beyond tolerance).\n\n"
            s += regressions.isEmpty ? "- worse beyond tolerance: nothing\n" : "- worse beyond tolerance: \(list(regressions))\n"
            s += improvements.isEmpty ? "- better beyond tolerance: nothing\n" : "- better beyond tolerance: \(list(improvements))\n"
            if layersDiffer { s += "- the layers differ (\(removedLayers.count) only in the baseline, \(addedLayers.count) only in the current report), see below\n" }
            return s
        }
        var reasons: [String] = []
        if !regressions.isEmpty {
            reasons.append("\(count(regressions.count, "figure")) regressed beyond tolerance: \(list(regressions))")
        }
        if layersDiffer {
            reasons.append(
                "the layers differ (\(removedLayers.count) removed, \(addedLayers.count) added): a different workload shape, see below")
        }
        if strict, !improvements.isEmpty {
            reasons.append("\(count(improvements.count, "figure")) improved beyond tolerance, which fails under --strict: \(list(improvements))")
        }
        if !reasons.isEmpty {
            return "**FAIL**\n\n" + reasons.map { "- \($0)\n" }.joined()
        }
        if !improvements.isEmpty {
            return "**PASS** with \(count(improvements.count, "improvement")) beyond tolerance (\(list(improvements))). "
                + "Improvements fail only with --strict; re-record the baseline to keep them.\n"
        }
        let changed = figures.contains { $0.status != .unchanged } || layers.contains(where: \.moved)
        return changed ? "**PASS**: every figure is within tolerance.\n" : "**PASS**: every figure is unchanged.\n"
    }

    /// JUnit XML: one `<testsuite name="tessera compare">` with a `<testcase>` per compared figure
    /// (top-level, then each layer's) and one for the layer set; regressions (and improvements
    /// when strict) carry a `<failure>`.
    public func junit() -> String {
        struct Case {
            var classname: String
            var name: String
            var failure: (type: String, message: String, detail: String)?
            var output: String?
        }
        let base = "tessera.compare.\(workload)--\(hardware)"
        func testCase(_ classname: String, _ name: String, _ subject: String, _ f: FigureDelta) -> Case {
            let detail =
                "baseline \(Self.value(f.baseline, f.metric)), current \(Self.value(f.current, f.metric)), "
                + "change \(Self.deltaText(f.change)), tolerance \(CompareTolerance.percentText(f.tolerance))"
            switch f.status {
            case .regression where !gates:
                return Case(classname: classname, name: name, output: "\(subject) is worse beyond tolerance (A/B, not gated): \(detail)")
            case .regression:
                return Case(classname: classname, name: name, failure: ("regression", "\(subject) regressed: \(detail)", detail))
            case .improvement where strict:
                return Case(classname: classname, name: name, failure: ("improvement", "\(subject) improved beyond tolerance (--strict): \(detail)", detail))
            case .improvement:
                return Case(classname: classname, name: name, output: "\(subject) improved beyond tolerance: \(detail)")
            case .unchanged, .withinTolerance:
                return Case(classname: classname, name: name)
            }
        }
        var cases = figures.map { testCase(base, $0.metric.rawValue, $0.metric.rawValue, $0) }
        for l in layers {
            for f in l.figures { cases.append(testCase(base + ".layers", "\(l.name) \(f.metric.rawValue)", "layer \(l.name) \(f.metric.rawValue)", f)) }
        }
        var layerSet = Case(classname: base, name: "layer set")
        if layersDiffer, gates {
            var detail: [String] = []
            if !removedLayers.isEmpty { detail.append("only in the baseline (removed): " + removedLayers.joined(separator: ", ")) }
            if !addedLayers.isEmpty { detail.append("only in the current report (added): " + addedLayers.joined(separator: ", ")) }
            layerSet.failure = (
                "layers-differ",
                "the reports have different layers (\(removedLayers.count) removed, \(addedLayers.count) added): a different workload shape",
                detail.joined(separator: "\n")
            )
        }
        cases.append(layerSet)
        let failures = cases.filter { $0.failure != nil }.count
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"tessera compare\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\">\n"
        x += "  <testsuite name=\"tessera compare\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"0\">\n"
        x += "    <properties>\n"
        for (k, v) in [
            ("baseline", baselinePath), ("current", currentPath), ("hardware", hardware), ("workload", workload),
            ("tolerance", tolerance.summary), ("strict", strict ? "true" : "false"),
        ] {
            x += "      <property name=\"\(Self.xmlEscape(k))\" value=\"\(Self.xmlEscape(v))\"/>\n"
        }
        x += "    </properties>\n"
        for c in cases {
            let open = "    <testcase classname=\"\(Self.xmlEscape(c.classname))\" name=\"\(Self.xmlEscape(c.name))\" time=\"0\""
            if let f = c.failure {
                x += open + ">\n"
                x += "      <failure type=\"\(Self.xmlEscape(f.type))\" message=\"\(Self.xmlEscape(f.message))\">\(Self.xmlEscape(f.detail))</failure>\n"
                x += "    </testcase>\n"
            } else if let o = c.output {
                x += open + ">\n      <system-out>\(Self.xmlEscape(o))</system-out>\n    </testcase>\n"
            } else {
                x += open + "/>\n"
            }
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    /// Escapes text for XML 1.0 attribute values and character data; characters XML 1.0 cannot hold
    /// (most control characters) become U+FFFD.
    public static func xmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// A figure for people: counts whole, times in ms, shares in percent, power in W, energy in J.
    static func value(_ v: Double, _ metric: CompareMetric) -> String {
        switch metric {
        case .seconds, .computeSeconds, .exposedCommSeconds, .idleSeconds, .ttftP50, .ttftP90, .ttftP99, .tpotP50, .tpotP90, .tpotP99:
            return formatDecimal(v * 1e3, maxDecimals: 9) + " ms"
        case .utilization, .mfu, .sloAttainment: return formatDecimal(v * 100, maxDecimals: 4) + "%"
        case .averagePowerW, .peakPowerW: return formatDecimal(v, maxDecimals: 4) + " W"
        case .energyJoules: return formatDecimal(v, maxDecimals: 6) + " J"
        default: return v == v.rounded() && abs(v) < 9e18 ? String(Int64(v)) : formatDecimal(v)
        }
    }

    /// A relative change in percent with its sign: `+3.2%`, `-0.5%`, `0%`, `+<0.001%`, `+∞%`.
    static func deltaText(_ change: Double) -> String {
        if change == 0 { return "0%" }
        let sign = change > 0 ? "+" : "-"
        if change.isInfinite { return sign + "∞%" }
        let text = formatDecimal(abs(change) * 100, maxDecimals: 3)
        return sign + (text == "0" ? "<0.001" : text) + "%"
    }

    private func statusText(_ f: FigureDelta) -> String {
        let tol = CompareTolerance.percentText(f.tolerance)
        switch f.status {
        case .unchanged: return "unchanged"
        case .withinTolerance: return "ok (within \(tol))"
        case .regression: return gates ? "**regression** (beyond \(tol))" : "worse (beyond \(tol))"
        case .improvement:
            guard gates else { return "better (beyond \(tol))" }
            return strict ? "**improvement** (beyond \(tol); fails with --strict)" : "improvement (beyond \(tol))"
        }
    }

    private func layerStatus(_ l: LayerDelta) -> String {
        let r = l.figures.filter { $0.status == .regression }.map(\.metric.rawValue)
        let i = l.figures.filter { $0.status == .improvement }.map(\.metric.rawValue)
        var parts: [String] = []
        if !r.isEmpty { parts.append((gates ? "**regression**: " : "worse: ") + r.joined(separator: ", ")) }
        if !i.isEmpty { parts.append((gates ? (strict ? "**improvement**: " : "improvement: ") : "better: ") + i.joined(separator: ", ")) }
        return parts.isEmpty ? "ok" : parts.joined(separator: "; ")
    }

    private func list(_ findings: [Finding], limit: Int = 12) -> String {
        var items = findings.prefix(limit).map { "\(mdText($0.subject)) \(Self.deltaText($0.delta.change))" }
        if findings.count > limit { items.append("and \(findings.count - limit) more") }
        return items.joined(separator: ", ")
    }

    private func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

    /// Text for a Markdown table cell: pipes escaped, line breaks flattened.
    private func mdText(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
