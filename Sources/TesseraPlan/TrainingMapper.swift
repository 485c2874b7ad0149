import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// Maps a training step (or a forward pass) onto a sparse training accelerator and computes its
/// offline schedule.
///
/// Mapping: products go to the `nm-sparse-array`, each in the dataflow its closed form says is
/// fastest (`NMSparseArray.bestDataflow`) and in sparse mode when its weight operand is N:M
/// pruned, tiled against the SRAM halves like `Mapper` (with dense activations and indexed sparse
/// weights); vector work goes to the `vector-unit` and pruning to the `mask-generator`, each cut
/// into tiles no larger than a buffer half, its closed-form cycles split evenly over them.
///
/// Scheduling (`Optimizations`):
/// - offline schedule: `ListScheduler` with upward-rank priority over estimated durations
///   (Σ over tiles of max(compute, DRAM bytes / bandwidth)); off: program order, in-order dispatch;
/// - pre-generation off: each mask waits for the other predecessors of the operation that
///   consumes it (on-demand generation);
/// - interleave: each unit may take tiles from its next two operations (`Schedule.window`), so
///   independent work (a layer's wg while the next bp waits for its input gradient or its mask)
///   fills what would be idle time, and fetches run ahead across operations.
public enum TrainingMapper {
    public static func plan(graph: DataflowGraph, hardware: HardwareModel, workload: String, optimizations: Optimizations) throws(InputError) -> Plan {
        let hwLocation = SourceLocation(file: hardware.spec.file, line: 1, column: 1)
        var bag = DiagnosticBag()
        guard let array = hardware.sparseArrays.first, let vector = hardware.vectorUnits.first else {
            throw InputError(
                Diagnostic(at: hwLocation, "the hardware has no nm-sparse-array and vector-unit to train on", expected: "kind: sparse-training-array with both units"))
        }
        let arraySpec = hardware.spec.compute.first { $0.name == array.name }
        let maskgen = hardware.maskGenerators.first
        var reported = Set<SourceLocation>()
        for op in graph.operations {
            if case .maskgen = op.kind, maskgen == nil, let loc = op.sparsityLocation, reported.insert(loc).inserted {
                bag.error(
                    loc, "N:M training needs a mask generator to prune the weights every step", expected: "a compute unit of kind 'mask-generator' in \(hardware.spec.file)",
                    found: "none", hint: "add {name: maskgen, kind: mask-generator, lanes: 32} under 'compute', or train dense")
            }
            if let p = op.sparsity, !array.supports(p), let loc = op.sparsityLocation, reported.insert(loc).inserted {
                bag.error(
                    loc, "the array '\(array.name)' does not run \(p)", expected: "one of " + array.patterns.map { "\"\($0)\"" }.joined(separator: ", ") + ", or dense",
                    found: "\"\(p)\"", hint: arraySpec.map { "its patterns are listed at \($0.location)" })
            }
        }
        var halves: [SRAMBuffer.Role: UInt64] = [:]
        for role in [SRAMBuffer.Role.ifmap, .filter, .ofmap] {
            guard let h = hardware.halfBuffer(for: role), h > 0 else {
                bag.error(
                    arraySpec?.location ?? hwLocation, "no SRAM buffer holds the \(role.rawValue) operand of '\(array.name)'",
                    expected: "an 'sram' with role '\(role.rawValue)' or 'shared' under 'memory'", found: "none")
                continue
            }
            halves[role] = h
        }
        try bag.throwIfErrors()
        let hA = halves[.ifmap] ?? 1, hB = halves[.filter] ?? 1, hO = halves[.ofmap] ?? 1

        let bpe = UInt64(graph.bytesPerElement)
        var ops: [OpPlan] = []
        var tileCount = 0
        for op in graph.operations {
            var p: OpPlan
            switch op.kind {
            case .gemm(let g):
                let dataflow = array.bestDataflow(g, pattern: op.sparsity)
                let operands = Mapper.GemmOperands(
                    shape: NMSparseArray.reduced(g, op.sparsity), array: array.dense(dataflow), bpe: bpe, pattern: op.sparsity,
                    perFoldExtra: array.extraPerFold(op.sparsity))
                guard let planned = Mapper.planGemm(op, operands, hA: hA, hB: hB, hO: hO, tileBudget: Mapper.maxTiles - tileCount) else {
                    throw tooManyTiles(op, hardware: hardware, halves: (hA, hB, hO), at: hwLocation)
                }
                p = planned
                p.unitKind = .array
            case .vector(_, let operations):
                let total = UInt64(vector.cycles(operations: operations) + vector.pipelineDepth)
                p = streamed(op, graph: graph, unit: vector.name, kind: .vector, cycles: total, inHalf: hA, outHalf: hO)
                p.laneOperations = UInt64(operations)
            case .maskgen(let weights, let pattern):
                let total = UInt64(maskgen?.cycles(weights: weights, pattern: pattern) ?? 0)
                p = streamed(op, graph: graph, unit: maskgen?.name ?? "maskgen", kind: .maskgen, cycles: total, inHalf: hB, outHalf: hB)
                // A streaming top-N sorter compares each weight with the N it keeps.
                p.maskCompares = UInt64(weights) * UInt64(pattern.n)
            case .memory, .device:
                p = streamed(op, graph: graph, unit: vector.name, kind: .vector, cycles: 0, inHalf: hA, outHalf: hO)
            }
            p.pass = op.pass
            p.sparsity = op.sparsity
            p.denseMacs = op.denseMacs
            p.thin(to: op.density)
            tileCount += p.tiles.count
            ops.append(p)
        }

        // Dependencies, with on-demand masks when pre-generation is off.
        var deps = graph.operations.map { $0.dependencies.map(\.raw) }
        if !optimizations.pregeneration {
            for op in graph.operations {
                let masks = op.dependencies.map(\.raw).filter { ops[$0].unitKind == .maskgen }
                let others = op.dependencies.map(\.raw).filter { ops[$0].unitKind != .maskgen }
                for m in masks { deps[m] = Array(Set(deps[m] + others)).sorted() }
            }
        }
        for i in ops.indices { ops[i].dependencies = deps[i].map(OpID.init) }

        // Units and estimated durations.
        var unitNames = [array.name, vector.name]
        var unitKinds: [UnitKind] = [.array, .vector]
        if let maskgen {
            unitNames.append(maskgen.name)
            unitKinds.append(.maskgen)
        }
        let unitIndex = ops.map { op in unitKinds.firstIndex(of: op.unitKind == .memory ? .vector : op.unitKind) ?? 0 }
        let durations = ops.map { $0.estimatedCycles(on: hardware) }
        let scheduler = ListScheduler(units: unitIndex, durations: durations, dependencies: deps, unitCount: unitNames.count)
        let result: ListScheduler.Result
        if optimizations.offlineSchedule {
            result = scheduler.run(priority: scheduler.upwardRanks(), inOrder: false)
        } else {
            result = scheduler.run(priority: Array(repeating: 0, count: ops.count), inOrder: true)
        }

        let streams = unitNames.indices.map { u in Schedule.Stream(unit: unitNames[u], kind: unitKinds[u], ops: result.order[u]) }
        let schedule = Schedule(
            streams: streams, inOrderDispatch: !optimizations.offlineSchedule, window: optimizations.interleave ? 2 : 1,
            optimizations: optimizations, estimatedStart: result.start)
        return Plan(
            hardware: hardware, workload: workload, layers: graph.layers, ops: ops, estimatedCycles: result.makespan, schedule: schedule,
            precision: graph.precision)
    }

    /// Vector or mask-generator work streamed through the buffers: inputs in tiles no larger than
    /// `inHalf`, outputs no larger than `outHalf`, the closed-form cycles split evenly over tiles.
    static func streamed(_ op: Operation, graph: DataflowGraph, unit: String, kind: UnitKind, cycles: UInt64, inHalf: UInt64, outHalf: UInt64) -> OpPlan {
        let inBytes = op.inputs.reduce(UInt64(0)) { $0 + graph.tensor($1).bytes }
        let outBytes = op.outputs.reduce(UInt64(0)) { $0 + graph.tensor($1).bytes }
        let pieces = max(ceilDiv(inBytes, max(inHalf, 1)), ceilDiv(outBytes, max(outHalf, 1)), 1)
        let tiles = (0..<pieces).map { i in
            Tile(
                computeCycles: Mapper.share(cycles, i, pieces), readA: Mapper.share(inBytes, i, pieces), readB: 0,
                write: Mapper.share(outBytes, i, pieces))
        }
        return OpPlan(
            op: op.id, name: op.name, layer: op.layer, opName: op.op, unit: unit, dataflow: nil, gemm: nil, rowFolds: 0, colFolds: 0, cyclesPerFold: 0,
            computeCycles: cycles, mappingEfficiency: 0, computeUtilization: 0, macs: 0, tiles: tiles, sramReadA: inBytes, sramReadB: 0,
            sramWrite: outBytes, dependencies: op.dependencies, unitKind: kind)
    }

    static func tooManyTiles(_ op: Operation, hardware: HardwareModel, halves: (UInt64, UInt64, UInt64), at hwLocation: SourceLocation) -> InputError {
        let sram = hardware.spec.memory.first { $0.kind == SRAMBuffer.schema.kind }
        return InputError(
            Diagnostic(
                at: sram?.location ?? hwLocation, "the SRAM buffers are too small for layer '\(op.name)': it would be cut into more than \(Mapper.maxTiles) tiles",
                expected: "buffers whose halves hold at least one fold's operands",
                found: "ifmap/filter/ofmap halves of \(halves.0)/\(halves.1)/\(halves.2) B"))
    }
}
