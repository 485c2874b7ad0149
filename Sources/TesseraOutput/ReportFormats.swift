import TesseraCore
import TesseraModel

extension Report {
    /// The JSON contract (schema 2): a core every family writes (`tessera`, `hardware`,
    /// `workload`, `family`, `seconds`, the energy and power figures, `units`, `model_notes`) and the
    /// sections of the family that ran: clocked hardware adds `clock_hz`, `total_cycles`, `macs`,
    /// `utilization`, cycle and DRAM figures and `layers`; a sparse training array or an edge SoC
    /// its training, placement and continual-learning fields; a GPU cluster `collectives`,
    /// `training_step` or `serving`. A field that does not apply to a run is absent, never zero.
    public func json() -> String { String(decoding: jsonBytes(), as: UTF8.self) }

    /// `json()` as UTF-8 bytes, what a file gets (no `String` of an 80 MB report is built).
    public func jsonBytes() -> [UInt8] {
        let layerValues: [JSONValue] = layers.map { l in
            var pairs: [(String, JSONValue)] = [
                ("name", .string(l.name)), ("op", .string(l.op)),
                ("compute_cycles", .uint(l.computeCycles)), ("stall_cycles", .uint(l.stallCycles)), ("total_cycles", .uint(l.totalCycles)),
                ("macs", .uint(l.macs)), ("utilization", .double(l.utilization)), ("mapping_efficiency", .double(l.mappingEfficiency)),
                ("compute_utilization", .double(l.computeUtilization)),
                ("dram_read_bytes", .uint(l.dramReadBytes)), ("dram_write_bytes", .uint(l.dramWriteBytes)),
                ("sram_read_bytes", .uint(l.sramReadBytes)), ("sram_write_bytes", .uint(l.sramWriteBytes)),
                ("unit", l.unit.map(JSONValue.string) ?? .null), ("dataflow", l.dataflow.map(JSONValue.string) ?? .null),
            ]
            if let g = l.gemm {
                pairs.append(("gemm", .object([("m", .int(Int64(g.m))), ("n", .int(Int64(g.n))), ("k", .int(Int64(g.k))), ("count", .int(Int64(g.count)))])))
                pairs.append(("folds", .object([("row", .int(Int64(l.rowFolds))), ("col", .int(Int64(l.colFolds)))])))
            }
            pairs.append(("tiles", .int(Int64(l.tiles))))
            if let pass = l.pass {
                pairs += [
                    ("pass", .string(pass)), ("sparsity", l.sparsity.map(JSONValue.string) ?? .null), ("dense_macs", .uint(l.denseMacs)),
                    ("start_cycle", .uint(l.startCycle)), ("end_cycle", .uint(l.endCycle)),
                ]
            }
            return .object(pairs)
        }
        // One array per unit, no concatenations (a 131,072-GPU step has about 300,000 units).
        let unitValues: [JSONValue] = units.map { u in
            var pairs: [(String, JSONValue)] = []
            pairs.reserveCapacity(5)
            pairs.append(("name", .string(u.name)))
            pairs.append(("kind", .string(u.kind)))
            pairs.append(("busy_s", .double(u.busySeconds)))
            if let cycles = u.busyCycles { pairs.append(("busy_cycles", .uint(cycles))) }
            pairs.append(("utilization", .double(u.utilization)))
            return .object(pairs)
        }
        var trainingPairs: [(String, JSONValue)] = []
        if let t = training {
            trainingPairs = [
                ("phase", .string(t.phase)), ("scheme", .string(t.scheme)), ("pattern", t.pattern.map(JSONValue.string) ?? .null),
                ("dense_macs", .uint(t.denseMacs)),
                ("optimizations", .object(t.optimizations.map { ($0.0, .bool($0.1)) })),
                ("interleaved_tiles", .int(Int64(t.interleavedTiles))),
                ("phases", .object(t.passes.map { p in
                    (p.pass, .object([
                        ("operations", .int(Int64(p.operations))), ("dense_macs", .uint(p.denseMacs)), ("macs", .uint(p.macs)),
                        ("busy_cycles", .uint(p.busyCycles)), ("dram_read_bytes", .uint(p.dramReadBytes)), ("dram_write_bytes", .uint(p.dramWriteBytes)),
                        ("first_cycle", .uint(p.firstCycle)), ("last_cycle", .uint(p.lastCycle)),
                    ]))
                })),
                ("left_dense", .array(t.leftDense.map(JSONValue.string))),
            ]
            if let d = denseTotalCycles, let s = speedupOverDense {
                trainingPairs += [("dense_total_cycles", .uint(d)), ("speedup_over_dense", .double(s))]
            }
        }
        let perSample: (String, JSONValue) =
            isTrainingStep ? ("energy_per_step_j", .double(energy.totalJoules)) : ("energy_per_inference_j", .double(energy.totalJoules / Double(max(batch, 1))))
        let energyPairs: [(String, JSONValue)] = [
            ("energy_j", .double(energy.totalJoules)), ("average_power_w", .double(energy.averageWatts)), ("peak_power_w", .double(energy.peakWatts)),
            perSample,
            (
                "energy",
                .object([
                    ("dynamic_j", .double(energy.dynamicJoules)), ("static_j", .double(energy.staticJoules)),
                    ("by_component", .object(energy.byComponent.map { ($0.name, .double($0.joules)) })),
                    ("by_action", .object(energy.byAction.map { ($0.action, .double($0.joules)) })),
                    ("power_window_s", .double(energy.windowSeconds)),
                    ("power_over_time", powerOverTime.json),
                ])
            ),
        ]
        var edgePairs: [(String, JSONValue)] = []
        if !placement.isEmpty {
            edgePairs.append(("placement", .object(placement.map { ($0.op, .string($0.unit)) })))
            edgePairs.append((
                "operating_points", .array(operatingPoints.map { p in .object([("start_cycle", .uint(p.cycle)), ("frequency_hz", .double(p.hertz)), ("energy_scale", .double(p.scale))]) })
            ))
            edgePairs.append(("throttled", .bool(operatingPoints.count > 1)))
        }
        if let v = budgetVerdict {
            edgePairs.append((
                "power_budget",
                .object([
                    ("budget_w", .double(v.budget)), ("average_w", .double(energy.averageWatts)), ("peak_w", .double(energy.peakWatts)),
                    ("average_within", .bool(v.averageWithin)), ("windows_over", .int(Int64(v.windowsOver))), ("windows", .int(Int64(v.windows))),
                    ("seconds_over", .double(v.secondsOver)),
                ])
            ))
        }
        if let h = hostLink {
            var pairs: [(String, JSONValue)] = [("link", .string(h.link)), ("bandwidth_bytes_per_s", .double(h.bytesPerSecond))]
            if let c = h.capacityBytes { pairs.append(("on_chip_capacity_bytes", .uint(c))) }
            pairs += [
                ("resident_weight_bytes", .uint(h.residentBytes)), ("streamed_weight_bytes", .uint(h.streamedBytes)), ("resident_layers", .int(Int64(h.residentLayers))),
                ("streamed_layers", .int(Int64(h.streamedLayers))), ("busy_s", .double(h.busySeconds)),
            ]
            edgePairs.append(("host_link", .object(pairs)))
        }
        var continualPairs: [(String, JSONValue)] = []
        if let c = continual {
            func figures(_ f: ContinualRun.Figures) -> JSONValue {
                .object([
                    ("samples_per_epoch", .int(Int64(f.samplesPerEpoch))), ("steps", .int(Int64(f.steps))), ("training_flops", .double(f.flops)),
                    ("seconds", .double(f.seconds)), ("energy_j", .double(f.joules)),
                ])
            }
            continualPairs = [(
                "continual",
                .object([
                    ("tasks", .int(Int64(c.spec.tasks))), ("epochs", .int(Int64(c.spec.epochs))), ("samples", .int(Int64(c.spec.samples))),
                    ("weight_sparsity", .double(c.spec.weightSparsity)), ("data_removal", .double(c.spec.dataRemoval)),
                    ("gradient_sparsity", .double(c.spec.gradientSparsity)), ("sparse", figures(c.sparse)), ("dense", figures(c.dense)),
                    ("flops_reduction", .double(c.flopsReduction)), ("speedup", .double(c.speedup)), ("energy_saving", .double(c.energySaving)),
                ])
            )]
        }
        var collectivePairs: [(String, JSONValue)] = collectives.isEmpty ? [] : [("collectives", .array(collectives.map(\.json)))]
        if let c = clusterStep { collectivePairs.append(("training_step", c.json)) }
        if let f = collectiveFindings { collectivePairs += f.pairs }
        if let v = serving { collectivePairs.append(("serving", v.json)) }
        let core: [(String, JSONValue)] = [
            ("tessera", .int(Int64(Report.schemaVersion))),
            ("hardware", .string(hardware)),
            ("workload", .string(workload)),
            ("family", .string(family)),
        ]
        let clocked: [(String, JSONValue)] = [
            ("clock_hz", .double(clockHz)),
            ("total_cycles", .uint(totalCycles)),
            ("seconds", .double(seconds)),
            ("macs", .uint(macs)),
            ("utilization", .double(utilization)),
            ("compute_cycles", .uint(computeCycles)),
            ("stall_cycles", .uint(stallCycles)),
            ("plan_estimate_cycles", .uint(planEstimateCycles)),
            ("dram_read_bytes", .uint(dramReadBytes)),
            ("dram_write_bytes", .uint(dramWriteBytes)),
        ]
        let top: JSONValue = .object(
            core + (isClocked ? clocked : [("seconds", .double(seconds))]) + energyPairs + edgePairs + trainingPairs + continualPairs + collectivePairs
                + (isClocked ? [("layers", .array(layerValues))] : []) + [
                    ("units", .array(unitValues)),
                    ("model_notes", .array(modelNotes.map(JSONValue.string))),
                ])
        // About 120 bytes a unit and 700 a layer: one buffer for a 300,000-unit report.
        return top.bytes(trailingNewline: true, reserve: 16_384 + 120 * units.count + 700 * layers.count)
    }

    /// One CSV row per operation, with a header.
    public func csv() -> String {
        if layers.isEmpty, !collectives.isEmpty { return collectivesCSV() }
        if let c = clusterStep { return c.csv() }
        if let v = serving { return v.csv() }
        var s = "layer,op,unit,dataflow,m,n,k,count,row_folds,col_folds,compute_cycles,stall_cycles,total_cycles,macs,utilization,mapping_efficiency,compute_utilization,dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,tiles"
        s += training == nil ? "\n" : ",pass,sparsity,dense_macs,start_cycle,end_cycle\n"
        for l in layers {
            let g = l.gemm
            var fields: [String] = [
                csvField(l.name), l.op, l.unit ?? "", l.dataflow ?? "", g.map { "\($0.m)" } ?? "", g.map { "\($0.n)" } ?? "",
                g.map { "\($0.k)" } ?? "", g.map { "\($0.count)" } ?? "", "\(l.rowFolds)", "\(l.colFolds)", "\(l.computeCycles)",
                "\(l.stallCycles)", "\(l.totalCycles)", "\(l.macs)", JSONValue.number(l.utilization), JSONValue.number(l.mappingEfficiency),
                JSONValue.number(l.computeUtilization), "\(l.dramReadBytes)", "\(l.dramWriteBytes)", "\(l.sramReadBytes)",
                "\(l.sramWriteBytes)", "\(l.tiles)",
            ]
            if training != nil {
                let extra: [String] = [l.pass ?? "", l.sparsity ?? "dense", "\(l.denseMacs)", "\(l.startCycle)", "\(l.endCycle)"]
                fields += extra
            }
            s += fields.joined(separator: ",") + "\n"
        }
        return s
    }

    private func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
    }

    /// A Markdown summary for people: totals, the layers that cost most, units, and the model's notes.
    public func markdown(topLayers: Int = 10) -> String {
        var s = "# \(workload) on \(hardware)\n\n"
        s += "| figure | value |\n| --- | --- |\n"
        if isClocked {
            s += "| total cycles | \(totalCycles) |\n"
            s += "| time | \(formatDecimal(seconds * 1e3, maxDecimals: 6)) ms at \(formatDecimal(clockHz / 1e6)) MHz |\n"
            s += "| MACs | \(macs) |\n"
            s += "| utilization | \(pct(utilization)) |\n"
            s += "| compute cycles | \(computeCycles) |\n"
            s += "| stall cycles | \(stallCycles) |\n"
            s += "| offline schedule's estimate | \(planEstimateCycles) cycles |\n"
            s += "| DRAM read / write | \(formatBytes(dramReadBytes)) / \(formatBytes(dramWriteBytes)) |\n"
        } else {
            s += "| time | \(DOTText.seconds(seconds, maxDecimals: 6)) |\n"
        }
        s += "| energy | \(joules(energy.totalJoules)) (\(joules(energy.dynamicJoules)) dynamic, \(joules(energy.staticJoules)) static) |\n"
        s += "| power average / peak | \(formatDecimal(energy.averageWatts, maxDecimals: 4)) W / \(formatDecimal(energy.peakWatts, maxDecimals: 4)) W |\n"
        if let line = budgetLine { s += "| power budget | \(line.replacingOccurrences(of: "power budget ", with: "")) |\n" }
        if let h = hostLink { s += "| host link | \(h.line) |\n" }
        s += collectivesMarkdown()
        if let c = clusterStep { s += c.markdown() + "\n" }
        if let f = collectiveFindings { s += "\n" + f.line + "\n" }
        if let v = serving { s += v.markdown() + "\n" }
        if let t = training {
            s += "| phase | \(t.phase), scheme \(t.scheme)\(t.pattern.map { " \($0)" } ?? "") |\n"
            s += "| dense-equivalent MACs | \(t.denseMacs) |\n"
            s += "| optimizations | " + t.optimizations.map { "\($0.0) \($0.1 ? "on" : "off")" }.joined(separator: ", ") + " |\n"
            if let d = denseTotalCycles, let sp = speedupOverDense {
                s += "| dense run | \(d) cycles |\n| speedup over dense | \(formatDecimal(sp, maxDecimals: 3))× |\n"
            }
            if let c = continual {
                s += "| continual learning | \(c.spec.tasks) tasks × \(c.spec.epochs) epochs, \(c.sparse.samplesPerEpoch) of \(c.spec.samples) samples per epoch |\n"
                s += "| training FLOPs | \(formatDecimal(c.sparse.flops, maxDecimals: 0)) (dense \(formatDecimal(c.dense.flops, maxDecimals: 0)), \(formatDecimal(c.flopsReduction, maxDecimals: 3))× fewer) |\n"
                s += "| time, energy | \(formatDecimal(c.sparse.seconds, maxDecimals: 4)) s, \(formatDecimal(c.sparse.joules, maxDecimals: 4)) J (dense \(formatDecimal(c.dense.seconds, maxDecimals: 4)) s, \(formatDecimal(c.dense.joules, maxDecimals: 4)) J) |\n"
            }
            s += "\n## Passes\n\n| pass | ops | dense MACs | executed MACs | busy cycles | DRAM read | DRAM write | first cycle | last cycle |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for p in t.passes {
                s += "| \(p.pass) | \(p.operations) | \(p.denseMacs) | \(p.macs) | \(p.busyCycles) | \(formatBytes(p.dramReadBytes)) | \(formatBytes(p.dramWriteBytes)) | \(p.firstCycle) | \(p.lastCycle) |\n"
            }
        }
        s += "\n"
        let top = layers.enumerated().sorted { a, b in
            a.element.totalCycles != b.element.totalCycles ? a.element.totalCycles > b.element.totalCycles : a.offset < b.offset
        }.prefix(topLayers)
        if !layers.isEmpty {
            s += "## Layers that take longest\n\n| layer | op | total cycles | compute | stall | utilization | mapping efficiency |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
            for (_, l) in top {
                s += "| \(l.name) | \(l.op) | \(l.totalCycles) | \(l.computeCycles) | \(l.stallCycles) | \(pct(l.utilization)) | \(pct(l.mappingEfficiency)) |\n"
            }
            s += "\n"
        }
        s += isClocked ? "## Units\n\n| unit | kind | busy cycles | utilization |\n| --- | --- | ---: | ---: |\n" : "## Units\n\n| unit | kind | busy | utilization |\n| --- | --- | ---: | ---: |\n"
        // A cluster has thousands of links: its GPUs and the busiest links, the rest in the JSON.
        let shownUnits: [Unit]
        if units.count > Self.markdownUnits, clusterStep != nil || serving != nil || !collectives.isEmpty {
            let gpus = units.filter { $0.kind == "gpu" }
            let links = units.enumerated().filter { $0.element.kind != "gpu" }.sorted { a, b in
                a.element.utilization != b.element.utilization ? a.element.utilization > b.element.utilization : a.offset < b.offset
            }.map(\.element)
            shownUnits = gpus + links.prefix(max(0, Self.markdownUnits - gpus.count))
        } else {
            shownUnits = units
        }
        for u in shownUnits { s += "| \(u.name) | \(u.kind) | \(u.busyCycles.map { "\($0)" } ?? DOTText.seconds(u.busySeconds, maxDecimals: 6)) | \(pct(u.utilization)) |\n" }
        if shownUnits.count < units.count { s += "\n\(units.count - shownUnits.count) less busy links are in the JSON report's `units`.\n" }
        s += "\n## Energy\n\n| component | energy | share |\n| --- | ---: | ---: |\n"
        for c in energy.byComponent { s += "| \(c.name) | \(joules(c.joules)) | \(pct(energy.totalJoules > 0 ? c.joules / energy.totalJoules : 0)) |\n" }
        s += "\n| action | energy | share |\n| --- | ---: | ---: |\n"
        for a in energy.byAction { s += "| \(a.action) | \(joules(a.joules)) | \(pct(energy.totalJoules > 0 ? a.joules / energy.totalJoules : 0)) |\n" }
        s += "\n## Model\n\n" + modelNotes.map { "- \($0)\n" }.joined()
        return s
    }

    /// Power over time for pictures and pages: the ledger's windows merged `k` at a time into at
    /// most `PowerSeries.maxPoints` points, each the average power of its windows (energy is kept:
    /// Σ watts × window = energy). `peak_power_w` stays the largest unmerged window.
    public var powerOverTime: PowerSeries { PowerSeries(windowSeconds: energy.windowSeconds, watts: energy.windowWatts) }

    /// The power budget's verdict in words (nil without a budget).
    var budgetLine: String? {
        guard let v = budgetVerdict else { return nil }
        let avg = formatDecimal(energy.averageWatts, maxDecimals: 4), b = formatDecimal(v.budget, maxDecimals: 4)
        var line = v.averageWithin ? "power budget \(b) W: average \(avg) W, within" : "power budget \(b) W: average \(avg) W, OVER BUDGET by \(pct(energy.averageWatts / v.budget - 1))"
        if v.windowsOver > 0 {
            line += "; above it in \(v.windowsOver) of \(v.windows) windows (\(DOTText.seconds(v.secondsOver)), peak \(formatDecimal(energy.peakWatts, maxDecimals: 4)) W)"
        } else {
            line += "; never above it (peak \(formatDecimal(energy.peakWatts, maxDecimals: 4)) W)"
        }
        return line
    }

    /// The most units the Markdown report lists for a cluster (GPU classes first, then the busiest links).
    static let markdownUnits = 40

    /// A short fixed-width table for the terminal.
    public func table(maxLayers: Int = 12) -> String {
        let power = "energy \(joules(energy.totalJoules)), power \(formatDecimal(energy.averageWatts, maxDecimals: 4)) W average, \(formatDecimal(energy.peakWatts, maxDecimals: 4)) W peak"
        guard isClocked else { return "\(workload) on \(hardware): \(DOTText.seconds(seconds, maxDecimals: 6)), \(power)\n" + familyLines() }
        // Stalls split: memory-only layers (pooling, elementwise with no unit to run them: the array
        // waits while they stream through DRAM) and layers with compute waiting on their operands.
        let memoryOnly = layers.filter { $0.computeCycles == 0 }.reduce(UInt64(0)) { $0 + $1.stallCycles }
        let stallText = memoryOnly > 0 && memoryOnly < stallCycles
            ? "stalls \(stallCycles) cycles (\(stallCycles - memoryOnly) waiting on memory, \(memoryOnly) in memory-only layers)"
            : memoryOnly > 0 ? "stalls \(stallCycles) cycles (all in memory-only layers)" : "stalls \(stallCycles) cycles"
        var s = "\(workload) on \(hardware): \(totalCycles) cycles, \(formatDecimal(seconds * 1e3, maxDecimals: 6)) ms, utilization \(pct(utilization)), \(stallText), \(power)\n"
        if let line = budgetLine { s += line + "\n" }
        if let h = hostLink { s += h.line + "\n" }
        let head = ["layer", "op", "total", "compute", "stall", "util"]
        var rows = [head]
        // The costliest layers first (ties in workload order); the report lists them all in order.
        let shown = layers.count <= maxLayers ? Array(layers) : layers.enumerated().sorted { a, b in
            a.element.totalCycles != b.element.totalCycles ? a.element.totalCycles > b.element.totalCycles : a.offset < b.offset
        }.prefix(maxLayers).map(\.element)
        if layers.count > maxLayers { s += "the \(maxLayers) costliest of \(layers.count) layers:\n" }
        for l in shown { rows.append([l.name, l.op, "\(l.totalCycles)", "\(l.computeCycles)", "\(l.stallCycles)", pct(l.utilization)]) }
        let widths = (0..<head.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for r in rows {
            s += zip(r, widths).enumerated().map { i, p in
                i < 2 ? p.0.padding(p.1) : String(repeating: " ", count: p.1 - p.0.count) + p.0
            }.joined(separator: "  ") + "\n"
        }
        if layers.count > maxLayers { s += "… \(layers.count - maxLayers) more layers in the report, in workload order\n" }
        return s + familyLines()
    }

    /// The console lines of a GPU cluster's sections.
    private func familyLines() -> String {
        var s = ""
        if let c = clusterStep {
            s += "\(c.model) on \(c.gpus) GPUs (tp \(c.tp) × pp \(c.pp) × dp \(c.dp)\(c.cp > 1 ? " × cp \(c.cp)" : "")): step \(formatDecimal(c.stepSeconds * 1e3, maxDecimals: 3)) ms, MFU \(pct(c.mfu)), per GPU compute \(formatDecimal(c.split.compute * 1e3, maxDecimals: 3)) ms, exposed communication \(formatDecimal(c.split.exposedComm * 1e3, maxDecimals: 3)) ms, overlapped \(formatDecimal(c.split.overlappedComm * 1e3, maxDecimals: 3)) ms, idle \(formatDecimal(c.split.idle * 1e3, maxDecimals: 3)) ms\n"
            if let r = c.slowestRank { s += "slowest rank: gpu\(r.rank) (\(formatDecimal(r.seconds * 1e3, maxDecimals: 3)) ms of compute, median \(formatDecimal(r.medianSeconds * 1e3, maxDecimals: 3)) ms)\n" }
            if let l = c.slowestLink { s += "slowest link: \(l.name) (\(l.slowed) of \(l.messages) messages late)\n" }
            if let f = c.failure { s += "failure: \(f.component) cut at \(formatDecimal(f.at * 1e3, maxDecimals: 3)) ms; the step does not complete\n" }
        }
        if let v = serving {
            s += "\(v.model) served \(v.mode) on \(v.gpus) GPUs, \(v.requests) requests: " + v.summary + "\n"
        }
        if let f = collectiveFindings { s += f.line + "\n" }
        for c in collectives {
            s += "\(c.op) \(c.algorithmAndProtocol) \(c.ranks) ranks \(c.bytes) B: \(formatDecimal(c.seconds * 1e6, maxDecimals: 3)) us, algbw \(formatDecimal(c.algbwGBps, maxDecimals: 3)) GB/s, busbw \(formatDecimal(c.busbwGBps, maxDecimals: 3)) GB/s\n"
        }
        return s
    }

    private func pct(_ x: Double) -> String { formatDecimal(x * 100, maxDecimals: 2) + "%" }


    /// Joules with an SI prefix (J, mJ, µJ, nJ), four significant decimals.
    private func joules(_ j: Double) -> String {
        for (f, u) in [(1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ")] where abs(j) >= f || f == 1e-9 {
            return formatDecimal(j / f, maxDecimals: 4) + " " + u
        }
        return formatDecimal(j, maxDecimals: 6) + " J"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// Average power in consecutive windows of one length, from the start of a run.
public struct PowerSeries: Sendable, Equatable {
    /// The most points written to a report (the finest windows are merged to fit).
    public static let maxPoints = 256
    public var windowSeconds: Double
    public var watts: [Double]

    public init(windowSeconds: Double, watts: [Double]) {
        let k = max(1, (watts.count + Self.maxPoints - 1) / Self.maxPoints)
        self.windowSeconds = windowSeconds * Double(k)
        self.watts = stride(from: 0, to: watts.count, by: k).map { start in
            let group = watts[start..<min(watts.count, start + k)]
            // A last, partial group averages over the windows it has.
            return group.reduce(0, +) / Double(group.count)
        }
    }

    var json: JSONValue { .object([("window_s", .double(windowSeconds)), ("watts", .array(watts.map { .double($0) }))]) }
}
