import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSim
import TesseraSpec

/// The figures of one simulation, per layer and per unit: what every output format renders.
///
/// The JSON form is the stable contract (schema version `Report.schemaVersion`); fields may be
/// added, never renamed.
public struct Report: Sendable {
    public static let schemaVersion = 2

    public struct Layer: Sendable {
        public var name: String
        public var op: String
        public var unit: String?
        public var dataflow: String?
        public var gemm: GemmShape?
        public var rowFolds: Int
        public var colFolds: Int
        public var computeCycles: UInt64
        public var stallCycles: UInt64
        public var totalCycles: UInt64
        public var macs: UInt64
        /// MACs / (total cycles · PEs).
        public var utilization: Double
        public var mappingEfficiency: Double
        public var computeUtilization: Double
        public var dramReadBytes: UInt64
        public var dramWriteBytes: UInt64
        public var sramReadBytes: UInt64
        public var sramWriteBytes: UInt64
        public var tiles: Int
        /// Training and sparse-array runs only: the pass, the N:M pattern (nil = dense), the dense
        /// MACs, and when the operation ran (first compute to last write-back, in cycles).
        public var pass: String? = nil
        public var sparsity: String? = nil
        public var denseMacs: UInt64 = 0
        public var startCycle: UInt64 = 0
        public var endCycle: UInt64 = 0
    }

    /// The figures of one pass of a training step.
    public struct PassSummary: Sendable {
        public var pass: String
        public var operations: Int
        public var denseMacs: UInt64
        public var macs: UInt64
        /// Σ compute cycles of the pass's operations on their units.
        public var busyCycles: UInt64
        public var dramReadBytes: UInt64
        public var dramWriteBytes: UInt64
        /// First start and last end of the pass's operations, in cycles.
        public var firstCycle: UInt64
        public var lastCycle: UInt64
    }

    /// What a run on a sparse training accelerator adds to the report.
    public struct Training: Sendable {
        public var phase: String
        public var scheme: String
        public var pattern: String?
        public var optimizations: [(String, Bool)]
        public var denseMacs: UInt64
        public var passes: [PassSummary]
        /// Layers the workload's pattern left dense because its groups do not divide them.
        public var leftDense: [String]
        /// Tiles a unit fetched from its second operation while its first could not start.
        public var interleavedTiles: Int
    }

    /// A resource of the run and how busy it was: seconds for every family, cycles (in the
    /// hardware's clock) where the hardware has one.
    public struct Unit: Sendable {
        public var name: String
        public var kind: String
        public var busySeconds: Double
        /// Busy cycles in the hardware's clock; nil where the hardware has no clock (a cluster's GPUs and links).
        public var busyCycles: UInt64?
        public var utilization: Double

        /// A unit of clocked hardware.
        public init(name: String, kind: String, busyCycles: UInt64, clockHz: Double, utilization: Double) {
            self.name = name
            self.kind = kind
            self.busyCycles = busyCycles
            self.busySeconds = clockHz > 0 ? Double(busyCycles) / clockHz : 0
            self.utilization = utilization
        }

        /// A unit without a clock of its own, busy for `busySeconds`.
        public init(name: String, kind: String, busySeconds: Double, utilization: Double) {
            self.name = name
            self.kind = kind
            self.busySeconds = busySeconds
            self.busyCycles = nil
            self.utilization = utilization
        }
    }

    public var hardware: String
    public var workload: String
    /// The hardware family that ran (the hardware file's `kind`), set by the pipeline.
    public var family = ""
    /// Whether the hardware has one clock, so that cycles, MACs, layers and DRAM bytes mean
    /// something (the accelerator families); false for a GPU cluster, whose report has no such fields.
    public var isClocked = true
    public var clockHz: Double
    public var totalCycles: UInt64
    public var seconds: Double
    public var macs: UInt64
    public var peCount: Int
    public var layers: [Layer]
    public var units: [Unit]
    public var events: UInt64
    /// The offline schedule's estimate of total cycles (see `Plan.estimatedCycles`).
    public var planEstimateCycles: UInt64
    /// Plain statements of what the model approximates, with formulas.
    public var modelNotes: [String]
    /// Set for runs on a sparse training accelerator.
    public var training: Training?
    /// Energy and power of the run.
    public var energy: EnergyAccount
    /// Samples in the run (the batch) and whether it is a training step, for energy per sample.
    public var batch: Int = 1
    public var isTrainingStep = false
    /// Edge SoCs: the unit each operation ran on, and the operating points in force over the run
    /// (from cycle, frequency in Hz, dynamic-energy scale).
    public var placement: [(op: String, unit: String)] = []
    public var operatingPoints: [(cycle: UInt64, hertz: Double, scale: Double)] = []
    /// An edge SoC's power budget, watts: the report gives a verdict on it (`budgetVerdict`).
    public var powerBudgetWatts: Double? = nil
    /// An edge SoC with a host link: where the weights lived, and how long the link was busy.
    public var hostLink: HostLinkFigures? = nil

    /// Weight placement between on-chip memory and a host link (`HostLink`), with the link's time.
    public struct HostLinkFigures: Sendable {
        public var link: String
        public var bytesPerSecond: Double
        public var capacityBytes: UInt64?
        public var residentBytes: UInt64
        public var streamedBytes: UInt64
        public var residentLayers: Int
        public var streamedLayers: Int
        public var busySeconds: Double
        public init(
            link: String, bytesPerSecond: Double, capacityBytes: UInt64?, residentBytes: UInt64, streamedBytes: UInt64, residentLayers: Int, streamedLayers: Int,
            busySeconds: Double
        ) {
            self.link = link
            self.bytesPerSecond = bytesPerSecond
            self.capacityBytes = capacityBytes
            self.residentBytes = residentBytes
            self.streamedBytes = streamedBytes
            self.residentLayers = residentLayers
            self.streamedLayers = streamedLayers
            self.busySeconds = busySeconds
        }

        /// In words, for the console and the Markdown summary.
        public var line: String {
            let cap = capacityBytes.map { " of \(formatBytes($0))" } ?? ""
            return "weights: \(formatBytes(residentBytes)) in \(residentLayers) layers resident on chip\(cap); \(formatBytes(streamedBytes)) in \(streamedLayers) layers streamed over '\(link)' every inference (busy \(DOTText.seconds(busySeconds)))"
        }
    }

    /// Average and peak power against the budget: whether the average is within it, and how many
    /// of the energy account's windows (and how much time) were above it. The governor keeps its
    /// own running average over its window; these windows are the report's (1 µs, or run/4096).
    public var budgetVerdict: (budget: Double, averageWithin: Bool, windowsOver: Int, windows: Int, secondsOver: Double)? {
        guard let b = powerBudgetWatts, b > 0 else { return nil }
        let over = energy.windowWatts.filter { $0 > b }.count
        return (b, energy.averageWatts <= b, over, energy.windowWatts.count, min(seconds, Double(over) * energy.windowSeconds))
    }
    /// Every budget this run was given and missed, in words (a power budget whose average was
    /// exceeded, a serving SLO attainment below its target): what `simulate --strict` fails on.
    public var missedBudgets: [String] {
        var out: [String] = []
        if let v = budgetVerdict, !v.averageWithin {
            out.append("power budget \(formatDecimal(v.budget, maxDecimals: 4)) W: average \(formatDecimal(energy.averageWatts, maxDecimals: 4)) W is over it")
        }
        if let s = serving, s.sloMet == false, let v = s.sloVerdict { out.append(v) }
        return out
    }
    /// Exact MACs executed (after continual learning's sparsity), for FLOPs.
    public var exactMacs: Double = 0
    /// A continual-learning schedule composed from this step, when the workload has one.
    public var continual: ContinualRun? = nil
    /// GPU clusters: one entry per message size of a collective microbenchmark.
    public var collectives: [Collective] = []
    /// A collective microbenchmark's faults and the link found from its timing.
    public var collectiveFindings: CollectiveFindings? = nil
    /// A transformer training step on a GPU cluster.
    public var clusterStep: ClusterStep? = nil
    /// LLM inference served to a request trace on a GPU cluster.
    public var serving: Serving? = nil
    /// Set by `--compare-dense`: the same run with every layer dense.
    public var denseTotalCycles: UInt64?
    public var speedupOverDense: Double? {
        guard let d = denseTotalCycles, totalCycles > 0 else { return nil }
        return Double(d) / Double(totalCycles)
    }

    public var utilization: Double { totalCycles == 0 || peCount == 0 ? 0 : Double(macs) / (Double(totalCycles) * Double(peCount)) }
    public var stallCycles: UInt64 { layers.reduce(0) { $0 + $1.stallCycles } }
    public var computeCycles: UInt64 { layers.reduce(0) { $0 + $1.computeCycles } }
    public var dramReadBytes: UInt64 { layers.reduce(0) { $0 + $1.dramReadBytes } }
    public var dramWriteBytes: UInt64 { layers.reduce(0) { $0 + $1.dramWriteBytes } }

    public static let notes = [
        "compute cycles: SCALE-Sim v3's closed forms per fold (os: T+R+C-2; ws, is: 2R+C+T-2), folds run back to back, total = count*folds*L - 1",
        "layers run as a chain in workload order; residual branches are sequenced",
        "pooling and elementwise layers have no vector unit here: they are DRAM traffic only (read inputs, write output)",
        "weight/input-stationary partial sums stay in the ofmap buffer; DRAM sees each output once",
        "DRAM serves transfers in issue order: a transfer of b bytes occupies it b/bandwidth and completes latency later",
        "SRAM port bandwidth is accounted as busy cycles (bytes / bytes-per-cycle) but does not slow compute",
        "engine time is whole picoseconds: the clock period is 10^12/f rounded to the nearest picosecond",
        "plan_estimate_cycles is the offline schedule's estimate: sum over tiles of max(compute, DRAM bytes / bandwidth), no latency or contention",
    ]

    public init(plan: Plan, result: SimResult, hardwareName: String, workloadName: String) {
        let pes = plan.hardware.arrays.first?.peCount ?? plan.hardware.sparseArrays.first?.peCount ?? 0
        hardware = hardwareName
        workload = workloadName
        clockHz = plan.hardware.clock.hertz
        totalCycles = result.totalCycles
        seconds = Double(result.totalPicoseconds) / 1e12
        macs = plan.ops.reduce(0) { $0 + $1.macs }
        peCount = pes
        events = result.events
        planEstimateCycles = plan.estimatedCycles
        modelNotes = Report.notes + [Report.energyNote]
        energy = EnergyAccount(plan: plan, result: result)
        exactMacs = plan.ops.reduce(0) { $0 + $1.exactMacs }
        layers = zip(plan.ops, result.ops).map { p, s in
            Layer(
                name: p.name, op: p.opName, unit: p.unit, dataflow: p.dataflow?.rawValue, gemm: p.gemm, rowFolds: p.rowFolds, colFolds: p.colFolds,
                computeCycles: s.computeCycles, stallCycles: s.stallCycles, totalCycles: s.totalCycles, macs: p.macs,
                utilization: s.totalCycles == 0 || pes == 0 ? 0 : Double(p.macs) / (Double(s.totalCycles) * Double(pes)),
                mappingEfficiency: p.mappingEfficiency, computeUtilization: p.computeUtilization, dramReadBytes: p.dramRead,
                dramWriteBytes: p.dramWrite, sramReadBytes: p.sramRead, sramWriteBytes: p.sramWrite, tiles: p.tiles.count)
        }
        if plan.schedule != nil {
            let period = plan.hardware.clock.periodPicoseconds
            for (i, s) in result.ops.enumerated() {
                layers[i].pass = plan.ops[i].pass.rawValue
                layers[i].sparsity = plan.ops[i].sparsity?.description
                layers[i].denseMacs = plan.ops[i].denseMacs
                layers[i].startCycle = s.start / period
                layers[i].endCycle = ceilDiv(s.end, period)
            }
        }
        units = result.units.map { u in
            Unit(
                name: u.name, kind: u.kind, busyCycles: u.busyCycles, clockHz: plan.hardware.clock.hertz,
                utilization: result.totalCycles == 0 ? 0 : Double(u.busyCycles) / Double(result.totalCycles))
        }
    }

    /// The report of a run on hardware without one clock (a GPU cluster): time, events and energy;
    /// the family adds its sections, units and notes.
    public init(hardwareName: String, workloadName: String, seconds: Double, events: UInt64, energy: EnergyAccount) {
        hardware = hardwareName
        workload = workloadName
        isClocked = false
        clockHz = 0
        totalCycles = 0
        self.seconds = seconds
        macs = 0
        peCount = 0
        layers = []
        units = []
        self.events = events
        planEstimateCycles = 0
        modelNotes = []
        self.energy = energy
    }
}

extension Report {
    /// Adds what a run on a sparse training accelerator reports: the passes, the scheme and the
    /// optimizations.
    public mutating func addTraining(plan: Plan, result: SimResult, phase: String, scheme: String, pattern: String?, leftDense: [String]) {
        guard let schedule = plan.schedule else { return }
        var passes: [PassSummary] = []
        for pass in Pass.allCases {
            let idx = layers.indices.filter { layers[$0].pass == pass.rawValue }
            guard !idx.isEmpty else { continue }
            passes.append(
                PassSummary(
                    pass: pass.rawValue, operations: idx.count, denseMacs: idx.reduce(0) { $0 + layers[$1].denseMacs },
                    macs: idx.reduce(0) { $0 + layers[$1].macs }, busyCycles: idx.reduce(0) { $0 + layers[$1].computeCycles },
                    dramReadBytes: idx.reduce(0) { $0 + layers[$1].dramReadBytes }, dramWriteBytes: idx.reduce(0) { $0 + layers[$1].dramWriteBytes },
                    firstCycle: idx.map { layers[$0].startCycle }.min() ?? 0, lastCycle: idx.map { layers[$0].endCycle }.max() ?? 0))
        }
        training = Training(
            phase: phase, scheme: scheme, pattern: pattern,
            optimizations: Optimizations.keys.map { ($0.key, schedule.optimizations[keyPath: $0.path]) },
            denseMacs: layers.reduce(0) { $0 + $1.denseMacs }, passes: passes, leftDense: leftDense, interleavedTiles: result.interleavedTiles)
        modelNotes = Report.trainingNotes + [Report.energyNote]
        if !leftDense.isEmpty {
            modelNotes.append("left dense because the pattern's groups do not divide their reduction dimensions: " + leftDense.joined(separator: ", "))
        }
    }

    public static let energyNote =
        "energy: actions (MACs, SRAM and DRAM bytes, vector lane-ops, mask compares) x energy per action (Horowitz, ISSCC 2014, 45 nm, unless the file's energy: overrides) + static power x time; peak power is the largest 1 us (or run/4096) window"

    public static let edgeNotes = [
        "placement: products on the NPU (else the CPU), other work on the vector unit/DSP (else the CPU), unless placement: says otherwise",
        "NPU products use SCALE-Sim's closed forms (depthwise convs channel-parallel when the array says so); vector work ceil(ops/lanes) + depth; CPU work ceil(ops/(cores*lanes*efficiency)) core cycles converted to the SoC clock",
        "every unit double-buffers its tiles through the scratchpads; all units share the LPDDR channel, served in issue order",
        "DVFS: a tile computes at the clock of the operating point in force when it starts; unit-side dynamic energy scales as (V/V0)^2 (V0: the first point), DRAM energy does not",
        "governor: running average power over the window (energy of tiles started and transfers issued in it / window + static) above the budget steps down one point; below 80% of it, a window after the last change, steps back up",
        "cycles are counted at the first operating point's clock; engine time is whole picoseconds",
    ]

    public static let hostLinkNote =
        "host link: weights placed in layer order in the on-chip memory (the dram's size) while they fit, resident across layers and inferences; the rest stream over the link every inference, a tile's weight bytes taking bytes/bandwidth + latency in parallel with its activations from on-chip memory; energy per streamed byte link.byte (host DRAM read 243.75 pJ + ASSUMED 80 pJ for the link); input and output transfers and any per-inference invoke overhead are not modelled"

    public static let continualNote =
        "continual learning: every step of an epoch is taken as identical, so the schedule is one simulated full step times the full batches plus one partial step, per epoch; weight sparsity assumes kernels that skip pruned weights (cycles scaled by the kept fraction, rounded up per tile)"

    public static let trainingNotes = [
        "products run on the nm-sparse-array with SCALE-Sim's closed forms on the reduced shape (K' = K*N/M) plus sparse_pipeline_stages cycles per fold in sparse mode: cycles = count*folds*(L(K')+s) - 1; dataflow per op is the faster of the array's dataflows",
        "sparse weights carry a ceil(log2 M)-bit index each; activations are read dense (every group of M feeds the M:1 multiplexers)",
        "training step: ff Y=X*W, bp dX=dY*W^T (skipped at and before the first layer with weights), wg dW=X^T*dY (dense), SGD-momentum update in mixed precision on the vector unit (FP32 masters: 8 B per weight read and written besides the gradient and the FP16 copy)",
        "bdwp prunes W along K for ff and W^T along N for bp, each mask generated from the dense weights every step: ceil((weights/M)/lanes)*M*cycles_per_element cycles per mask",
        "vector unit: ceil(elements*ops_per_element/lanes) + pipeline_depth cycles per op; ops per element are assumptions listed in the vector-unit kind",
        "SRAM port bandwidth is accounted as busy cycles (bytes / bytes-per-cycle) but does not slow compute",
        "every unit double-buffers its tiles; all units share one DRAM channel served in issue order (b bytes occupy it b/bandwidth and complete latency later)",
        "layers run as a chain in the forward pass and in reverse in the backward pass; residual branches are sequenced",
        "plan_estimate_cycles is the offline list schedule's makespan over estimated op durations (sum over tiles of max(compute, DRAM bytes / bandwidth)), without DRAM contention between units",
        "engine time is whole picoseconds: the clock period is 10^12/f rounded to the nearest picosecond",
    ]
}
