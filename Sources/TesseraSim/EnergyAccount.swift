import Foundation
import TesseraCore
import TesseraModel
import TesseraPlan

/// The energy of a simulated run, by component and by action, and its power over time.
///
/// Accounting (Accelergy-style: actions counted by the plan and the simulation, times an energy per
/// action from `EnergyTable`, plus static power × time):
///
///     E = Σ_ops [ MACs·e_mac(precision) + lane-ops·e_vector + compares·e_compare + instructions·e_instr
///                 + SRAM bytes read/written by the unit·e_sram(size) ]
///       + Σ_transfers [ DRAM bytes·e_dram + the same bytes written to (loads) or read from
///                       (write-backs) the SRAM buffer that holds them·e_sram(size) ]
///       + Σ_components static power · run time
///
/// The unit-side dynamic energy is scaled by (V/V_ref)² for the operating point in force when it
/// is spent (`SimResult.voltageScale`); transfers are not (DRAM is outside the SoC's DVFS domain). Power over time: each operation's unit-side energy is spread evenly
/// over its compute intervals and each transfer's energy over its DRAM interval, then summed in
/// equal windows (1 µs, or run time / 4096 if that is longer); peak power is the largest window's
/// average, static power included. Complexity O(intervals + windows).
public struct EnergyAccount: Sendable {
    public var totalJoules: Double
    public var dynamicJoules: Double
    public var staticJoules: Double
    /// Per component (file order, then `static` lines), joules.
    public var byComponent: [(name: String, joules: Double)]
    /// Per action (table order), joules; static energy is the `static` action.
    public var byAction: [(action: String, joules: Double)]
    public var seconds: Double
    public var averageWatts: Double { seconds > 0 ? totalJoules / seconds : 0 }
    /// Window width in seconds and the average power of each window (static included), in watts.
    public var windowSeconds: Double
    public var windowWatts: [Double]
    public var peakWatts: Double { windowWatts.max() ?? averageWatts }

    /// An account from its figures (`EnergyLedger.account` draws it up).
    public init(
        seconds: Double, dynamicJoules: Double, staticJoules: Double, byComponent: [(name: String, joules: Double)], byAction: [(action: String, joules: Double)],
        windowSeconds: Double, windowWatts: [Double]
    ) {
        self.seconds = seconds
        self.dynamicJoules = dynamicJoules
        self.staticJoules = staticJoules
        self.totalJoules = dynamicJoules + staticJoules
        self.byComponent = byComponent
        self.byAction = byAction
        self.windowSeconds = windowSeconds
        self.windowWatts = windowWatts
    }

    /// An accelerator run's account: the plan's actions priced by `EnergyTable`, spent over the
    /// simulated intervals, posted into the one `EnergyLedger`.
    public init(plan: Plan, result: SimResult) {
        let hw = plan.hardware
        var ledger = EnergyLedger(duration: result.totalPicoseconds)
        func add(_ c: String, _ a: EnergyAction, _ j: Double) {
            guard j != 0 else { return }
            ledger.add(j, component: c, action: a.rawValue)
        }
        let parts = EnergyAccount.parts(plan: plan)
        let computeParts = parts.compute, transferParts = parts.transfer
        let computeSide = computeParts.map { $0.reduce(0) { $0 + $1.2 } }
        let transferSide = transferParts.map { $0.reduce(0) { $0 + $1.2 } }

        // Spread over intervals, scaled by the operating point's (V/V_ref)².
        var computeTime = Array(repeating: Picoseconds(0), count: plan.ops.count)
        var transferBytes = Array(repeating: UInt64(0), count: plan.ops.count)
        let dram = hw.dram.name
        let host = hw.hostLink?.name
        for iv in result.intervals {
            if iv.resource == dram || iv.resource == host { transferBytes[iv.op] += iv.bytes } else if iv.activity == .compute { computeTime[iv.op] += iv.end - iv.start }
        }
        var scaledCompute = Array(repeating: 0.0, count: plan.ops.count)
        var scaledTransfer = Array(repeating: 0.0, count: plan.ops.count)
        let hasTimeline = !result.intervals.isEmpty
        for iv in result.intervals {
            let v = result.voltageScale(at: iv.start)
            if iv.resource == dram || iv.resource == host {
                guard transferBytes[iv.op] > 0 else { continue }
                // Transfers are not scaled: DRAM is off the SoC's voltage domain.
                let j = transferSide[iv.op] * Double(iv.bytes) / Double(transferBytes[iv.op])
                scaledTransfer[iv.op] += j
                ledger.spread(j, from: iv.start, to: iv.end)
            } else if iv.activity == .compute, computeTime[iv.op] > 0 {
                let j = computeSide[iv.op] * Double(iv.end - iv.start) / Double(computeTime[iv.op]) * v
                scaledCompute[iv.op] += j
                ledger.spread(j, from: iv.start, to: iv.end)
            }
        }
        for i in plan.ops.indices {
            // Work with no interval (no timeline recorded, or zero-length compute) counts at its op's voltage.
            let cScale = computeSide[i] > 0 ? (computeTime[i] > 0 && hasTimeline ? scaledCompute[i] / computeSide[i] : result.voltageScale(at: result.ops[i].start)) : 1
            let tScale = transferSide[i] > 0 && transferBytes[i] > 0 && hasTimeline ? scaledTransfer[i] / transferSide[i] : 1
            if !(computeTime[i] > 0 && hasTimeline), computeSide[i] > 0 { ledger.spread(computeSide[i] * cScale, from: result.ops[i].start, to: result.ops[i].end) }
            if !(transferBytes[i] > 0 && hasTimeline), transferSide[i] > 0 { ledger.spread(transferSide[i] * tScale, from: result.ops[i].start, to: result.ops[i].end) }
            for (c, a, j) in computeParts[i] { add(c, a, j * cScale) }
            for (c, a, j) in transferParts[i] { add(c, a, j * tScale) }
        }
        for (name, watts) in hw.staticPower where watts > 0 { ledger.addStatic(watts: watts, component: name) }
        if result.socStaticWatts > 0 { ledger.addStatic(watts: result.socStaticWatts, component: "soc") }
        let names = hw.spec.components.map(\.name) + [hw.dram.name, "soc"]
        self = ledger.account(componentOrder: names, actionOrder: EnergyAction.allCases.map(\.rawValue) + ["static"])
    }

    /// Each operation's dynamic energy at the reference voltage, split into the unit side (its
    /// arithmetic and the unit's SRAM reads and writes) and the transfer side (DRAM bytes and the
    /// SRAM fills and drains they cause), itemised by component and action.
    public static func parts(plan: Plan) -> (compute: [[(String, EnergyAction, Double)]], transfer: [[(String, EnergyAction, Double)]]) {
        let hw = plan.hardware
        let table = hw.energy
        let roles = Set(hw.buffers.map(\.role))
        func buffer(_ role: SRAMBuffer.Role) -> SRAMBuffer? {
            hw.buffers.first { $0.role == role } ?? (roles.contains(role) ? nil : hw.buffers.first { $0.role == .shared })
        }
        func sram(_ role: SRAMBuffer.Role, _ a: EnergyAction, bytes: UInt64) -> (String, Double)? {
            guard bytes > 0, let b = buffer(role) else { return nil }
            return (b.name, table.sramPerByte(a, size: b.sizeBytes) * Double(bytes) * 1e-12)
        }
        let vectorPrecision = Dictionary(hw.vectorUnits.map { ($0.name, $0.precision) }, uniquingKeysWith: { a, _ in a })
        var computeParts: [[(String, EnergyAction, Double)]] = Array(repeating: [], count: plan.ops.count)
        var transferParts: [[(String, EnergyAction, Double)]] = Array(repeating: [], count: plan.ops.count)
        for (i, op) in plan.ops.enumerated() {
            var c: [(String, EnergyAction, Double)] = []
            var t: [(String, EnergyAction, Double)] = []
            let unit = op.unit ?? "array"
            if op.macs > 0 { c.append((unit, .mac(plan.precision), table.joules(.mac(plan.precision), Double(op.macs)))) }
            if op.laneOperations > 0 {
                let a = EnergyAction.vectorOp(vectorPrecision[unit] ?? .fp32)
                c.append((unit, a, table.joules(a, Double(op.laneOperations))))
            }
            if op.maskCompares > 0 { c.append((unit, .maskCompare, table.joules(.maskCompare, Double(op.maskCompares)))) }
            if op.cpuInstructions > 0 { c.append((unit, .cpuInstruction, table.joules(.cpuInstruction, Double(op.cpuInstructions)))) }
            if op.unit != nil {
                for (role, a, bytes) in [(SRAMBuffer.Role.ifmap, EnergyAction.sramRead, op.sramReadA), (.filter, .sramRead, op.sramReadB), (.ofmap, .sramWrite, op.sramWrite)] {
                    if let (name, j) = sram(role, a, bytes: bytes) { c.append((name, a, j)) }
                }
            }
            t.append((hw.dram.name, .dramRead, table.joules(.dramRead, Double(op.memoryRead))))
            if op.weightsFromHost, let link = hw.hostLink { t.append((link.name, .linkByte, table.joules(.linkByte, Double(op.dramReadB)))) }
            t.append((hw.dram.name, .dramWrite, table.joules(.dramWrite, Double(op.dramWrite))))
            for (role, a, bytes) in [(SRAMBuffer.Role.ifmap, EnergyAction.sramWrite, op.dramReadA), (.filter, .sramWrite, op.dramReadB), (.ofmap, .sramRead, op.dramWrite)] {
                if let (name, j) = sram(role, a, bytes: bytes) { t.append((name, a, j)) }
            }
            computeParts[i] = c
            transferParts[i] = t
        }

        return (computeParts, transferParts)
    }
}
