import TesseraCore

/// A sparse run and its dense baseline side by side, per pass, for the terminal.
public enum SideBySide {
    public static func text(sparse: Report, dense: Report) -> String {
        var rows: [[String]] = [["", "dense", sparse.training?.pattern.map { "\(sparse.training?.scheme ?? "") \($0)" } ?? "sparse", "ratio"]]
        func ratio(_ d: UInt64, _ s: UInt64) -> String { s == 0 ? "-" : formatDecimal(Double(d) / Double(s), maxDecimals: 3) + "×" }
        rows.append(["total cycles", "\(dense.totalCycles)", "\(sparse.totalCycles)", ratio(dense.totalCycles, sparse.totalCycles)])
        rows.append(["executed MACs", "\(dense.macs)", "\(sparse.macs)", ratio(dense.macs, sparse.macs)])
        rows.append(["DRAM bytes", "\(dense.dramReadBytes + dense.dramWriteBytes)", "\(sparse.dramReadBytes + sparse.dramWriteBytes)",
            ratio(dense.dramReadBytes + dense.dramWriteBytes, sparse.dramReadBytes + sparse.dramWriteBytes)])
        let densePasses = Dictionary(uniqueKeysWithValues: (dense.training?.passes ?? []).map { ($0.pass, $0) })
        for p in sparse.training?.passes ?? [] {
            let d = densePasses[p.pass]?.busyCycles ?? 0
            rows.append(["\(p.pass) busy cycles", "\(d)", "\(p.busyCycles)", ratio(d, p.busyCycles)])
        }
        let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var s = "\(sparse.workload) on \(sparse.hardware): speedup over dense \(ratio(dense.totalCycles, sparse.totalCycles))\n"
        for r in rows {
            s += r.enumerated().map { i, v in
                i == 0 ? v + String(repeating: " ", count: widths[i] - v.count) : String(repeating: " ", count: widths[i] - v.count) + v
            }.joined(separator: "  ") + "\n"
        }
        return s
    }
}
