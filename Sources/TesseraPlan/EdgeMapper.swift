import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// Maps a workload onto an edge SoC: places every operation on a unit, tiles it, and computes a
/// static list schedule and the DVFS/power plan the simulator runs under.
///
/// Placement: a product (conv2d, gemm, matmul) goes to the NPU (the SoC's systolic or N:M sparse
/// array) if there is one, else to the CPU; other work (pooling, elementwise, normalisation, loss,
/// weight update, and N:M mask generation, costed as N compares per weight) to the vector unit/DSP
/// if there is one, else to the CPU. The hardware's
/// `placement:` overrides by layer name first, then by op name. An operation that no unit can run
/// (a product with neither an NPU nor a CPU, say) is an input error.
/// Cost: NPU products tile like `Mapper` (sparse ones like `TrainingMapper`); vector work costs
/// `VectorUnit` cycles and CPU work `CPUCluster` cycles (converted to the SoC clock), both streamed
/// through the buffers in tiles no larger than a buffer half.
public enum EdgeMapper {
    public static func plan(graph: DataflowGraph, hardware: HardwareModel, workload: WorkloadSpec) throws(InputError) -> Plan {
        let spec = hardware.spec
        let hwLocation = SourceLocation(file: spec.file, line: 1, column: 1)
        let edge = spec.edge ?? EdgeSpec(operatingPoints: [OperatingPoint(frequency: spec.clock, voltage: 1, location: hwLocation)])
        let dense = hardware.arrays.first
        let sparse = hardware.sparseArrays.first
        let vector = hardware.vectorUnits.first
        let cpu = hardware.cpuClusters.first
        let npuName = dense?.name ?? sparse?.name
        var bag = DiagnosticBag()

        // Placement.
        let layerNames = Set(workload.layers.map(\.name))
        let opNames = Set(["conv2d", "gemm", "matmul"] + Pool.Kind.allCases.map(\.rawValue) + Elementwise.Kind.allCases.map(\.rawValue) + ["softmax-xent", "sgd-momentum"])
        for p in edge.placement where !layerNames.contains(p.key) && !opNames.contains(p.key) {
            bag.error(
                p.location, "'placement' names neither a layer of '\(workload.name)' nor an op", expected: "a layer name or an op such as 'conv2d' or 'add'",
                found: "'\(p.key)'", hint: closestMatch(to: p.key, in: Array(layerNames) + Array(opNames)).map { "did you mean '\($0)'?" })
        }
        let byKey = Dictionary(edge.placement.map { ($0.key, ($0.unit, $0.location)) }, uniquingKeysWith: { a, _ in a })
        let workloadLocation = SourceLocation(file: workload.file, line: 1, column: 1)
        var units: [Int: (name: String, kind: UnitKind)] = [:]
        for (i, op) in graph.operations.enumerated() {
            let layer = workload.layers.indices.contains(op.layer) ? workload.layers[op.layer] : nil
            let isProduct: Bool = { if case .gemm = op.kind { return true } else { return false } }()
            let chosen = (layer.flatMap { byKey[$0.name] } ?? byKey[op.op])
            let where_ = chosen?.1 ?? layer?.location ?? workloadLocation
            let name = chosen?.0 ?? (isProduct ? (npuName ?? cpu?.name) : (vector?.name ?? cpu?.name))
            guard let name else {
                bag.error(
                    where_, "no unit of '\(spec.name)' runs '\(op.op)' (\(op.name))",
                    expected: isProduct ? "an NPU (systolic-array or nm-sparse-array) or a cpu-cluster" : "a vector-unit or a cpu-cluster", found: "none")
                continue
            }
            let kind: UnitKind
            if name == npuName {
                guard isProduct else {
                    bag.error(where_, "the NPU '\(name)' runs products only, not '\(op.op)' (\(op.name))", expected: "a vector-unit or a cpu-cluster for it", found: "'\(name)'")
                    continue
                }
                kind = .array
            } else if name == vector?.name {
                guard !isProduct else {
                    bag.error(where_, "the vector unit '\(name)' does not run products like '\(op.name)'", expected: "the NPU or a cpu-cluster for it", found: "'\(name)'")
                    continue
                }
                kind = .vector
            } else if name == cpu?.name {
                kind = .cpu
            } else {
                bag.error(where_, "'\(name)' cannot run '\(op.name)'", expected: "the NPU, a vector unit or a cpu-cluster", found: "'\(name)'")
                continue
            }
            units[i] = (name, kind)
        }
        if let sparse {
            for op in graph.operations where op.sparsity.map({ !sparse.supports($0) }) == true {
                bag.error(
                    op.sparsityLocation ?? workloadLocation, "the NPU '\(sparse.name)' does not run \(op.sparsity?.description ?? "")",
                    expected: "one of " + sparse.patterns.map { "\"\($0)\"" }.joined(separator: ", "), found: "\"\(op.sparsity?.description ?? "")\"")
            }
        } else if let op = graph.operations.first(where: { $0.sparsity != nil }) {
            bag.error(
                op.sparsityLocation ?? workloadLocation, "N:M sparse weights need an nm-sparse-array NPU", expected: "an 'nm-sparse-array' in \(spec.file)",
                found: dense.map { "systolic-array '\($0.name)'" } ?? "no NPU")
        }
        var halves: [SRAMBuffer.Role: UInt64] = [:]
        for role in [SRAMBuffer.Role.ifmap, .filter, .ofmap] {
            guard let h = hardware.halfBuffer(for: role), h > 0 else {
                bag.error(hwLocation, "no SRAM scratchpad holds the \(role.rawValue) operand", expected: "an 'sram' with role '\(role.rawValue)' or 'shared' under 'memory'", found: "none")
                continue
            }
            halves[role] = h
        }
        try bag.throwIfErrors()
        let hA = halves[.ifmap] ?? 1, hB = halves[.filter] ?? 1, hO = halves[.ofmap] ?? 1

        let bpe = UInt64(graph.bytesPerElement)
        var ops: [OpPlan] = []
        var tileCount = 0
        for (i, op) in graph.operations.enumerated() {
            guard let (unitName, kind) = units[i] else { continue }
            var p: OpPlan
            switch (op.kind, kind) {
            case (.gemm(let g), .array):
                let operands: Mapper.GemmOperands
                if let sparse {
                    let df = sparse.bestDataflow(g, pattern: op.sparsity)
                    operands = Mapper.GemmOperands(
                        shape: NMSparseArray.reduced(g, op.sparsity), array: sparse.dense(df), bpe: bpe, pattern: op.sparsity, perFoldExtra: sparse.extraPerFold(op.sparsity))
                } else if let dense {
                    let (shape, perColumn) = dense.mapped(g)
                    operands = Mapper.GemmOperands(shape: shape, array: dense, bpe: bpe, aPerColumn: perColumn)
                } else {
                    continue
                }
                guard let planned = Mapper.planGemm(op, operands, hA: hA, hB: hB, hO: hO, tileBudget: Mapper.maxTiles - tileCount) else {
                    throw TrainingMapper.tooManyTiles(op, hardware: hardware, halves: (hA, hB, hO), at: hwLocation)
                }
                p = planned
                p.unitKind = .array
            case (.gemm, .cpu):
                let cycles = cpu?.cycles(operations: op.macs, socClock: spec.clock) ?? 0
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: .cpu, cycles: cycles, inHalf: hA, outHalf: hO)
                p.macs = op.macs
                p.cpuInstructions = cpu?.instructions(operations: op.macs) ?? 0
            case (.vector(_, let operations), .vector):
                let v = vector ?? VectorUnit(lanes: 1)
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: .vector, cycles: UInt64(v.cycles(operations: operations) + v.pipelineDepth), inHalf: hA, outHalf: hO)
                p.laneOperations = UInt64(operations)
            case (.vector(_, let operations), .cpu):
                let cycles = cpu?.cycles(operations: UInt64(operations), socClock: spec.clock) ?? 0
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: .cpu, cycles: cycles, inHalf: hA, outHalf: hO)
                p.laneOperations = UInt64(operations)
                p.cpuInstructions = cpu?.instructions(operations: UInt64(operations)) ?? 0
            case (.maskgen(let weights, let pattern), .vector):
                // No mask generator on an SoC: the vector unit sorts, N compares per weight.
                let v = vector ?? VectorUnit(lanes: 1)
                let operations = weights * pattern.n
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: .vector, cycles: UInt64(v.cycles(operations: operations) + v.pipelineDepth), inHalf: hB, outHalf: hB)
                p.laneOperations = UInt64(operations)
            case (.maskgen(let weights, let pattern), .cpu):
                let operations = UInt64(weights * pattern.n)
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: .cpu, cycles: cpu?.cycles(operations: operations, socClock: spec.clock) ?? 0, inHalf: hB, outHalf: hB)
                p.laneOperations = operations
                p.cpuInstructions = cpu?.instructions(operations: operations) ?? 0
            default:
                // Placement above sends products to the NPU or CPU and everything else to the vector
                // unit or CPU, so no other pairing reaches here.
                p = TrainingMapper.streamed(op, graph: graph, unit: unitName, kind: kind, cycles: 0, inHalf: hA, outHalf: hO)
            }
            p.pass = op.pass
            p.sparsity = op.sparsity
            p.denseMacs = op.denseMacs
            p.thin(to: op.density)
            tileCount += p.tiles.count
            ops.append(p)
        }

        let placement = hardware.hostLink.map { placeWeights(&ops, graph: graph, link: $0, capacity: hardware.dram.sizeBytes) }

        // The static schedule: critical-path list scheduling over the units.
        var unitNames: [String] = []
        var unitKinds: [UnitKind] = []
        for p in ops where !unitNames.contains(p.unit ?? "") {
            unitNames.append(p.unit ?? "")
            unitKinds.append(p.unitKind)
        }
        let unitIndex = ops.map { p in unitNames.firstIndex(of: p.unit ?? "") ?? 0 }
        let deps = ops.map { $0.dependencies.map(\.raw) }
        let durations = ops.map { $0.estimatedCycles(on: hardware) }
        let scheduler = ListScheduler(units: unitIndex, durations: durations, dependencies: deps, unitCount: unitNames.count)
        let result = scheduler.run(priority: scheduler.upwardRanks(), inOrder: false)
        let streams = unitNames.indices.map { Schedule.Stream(unit: unitNames[$0], kind: unitKinds[$0], ops: result.order[$0]) }

        // DVFS: each point's clock period and (V/V₀)², the energy table being at the first point.
        let v0 = edge.operatingPoints.first?.voltage ?? 1
        let componentStatic = hardware.staticPower.reduce(0) { $0 + $1.watts }
        let power = PowerPlan(
            points: edge.operatingPoints.map { ($0.frequency.periodPicoseconds, ($0.voltage / v0) * ($0.voltage / v0), $0.frequency.hertz) },
            initial: edge.initialPoint, budgetWatts: edge.budget, windowPicoseconds: Saturating.uint64Rounded(edge.window * 1e12),
            staticWatts: componentStatic + edge.staticPower, socStaticWatts: edge.staticPower)
        let schedule = Schedule(
            streams: streams, inOrderDispatch: false, window: 2, optimizations: Optimizations(), estimatedStart: result.start, power: power)
        var plan = Plan(
            hardware: hardware, workload: workload.name, layers: graph.layers, ops: ops, estimatedCycles: result.makespan, schedule: schedule,
            precision: graph.precision)
        plan.hostLink = placement
        return plan
    }

    /// Places weights for a SoC with a host link (`HostLink`): in operation order, each operation's
    /// weights stay in the on-chip memory while they fit its `size` (the Edge TPU's "roughly 8 MB
    /// of SRAM that can cache the model's parameter data", Coral's compiler documentation; the
    /// activations live in the SoC's buffers); every operation whose weights do not fit streams
    /// them over the link. With no size given, everything stays on chip.
    static func placeWeights(_ ops: inout [OpPlan], graph: DataflowGraph, link: HostLink, capacity: UInt64?) -> HostLinkPlacement {
        let weightBytes = ops.map { p -> UInt64 in
            guard p.dramReadB > 0 else { return 0 }
            return graph.operations[p.op.raw].inputs.map(graph.tensor).filter { $0.kind == .weight }.reduce(UInt64(0)) { $0 + $1.bytes }
        }
        var free = capacity ?? .max
        var resident: UInt64 = 0, streamed: UInt64 = 0, residentOps = 0, streamedOps = 0
        for i in ops.indices where weightBytes[i] > 0 {
            if weightBytes[i] <= free {
                free -= weightBytes[i]
                resident += weightBytes[i]
                residentOps += 1
            } else {
                ops[i].weightsFromHost = true
                streamed += weightBytes[i]
                streamedOps += 1
            }
        }
        return HostLinkPlacement(
            link: link.name, capacityBytes: capacity, residentBytes: resident, streamedBytes: streamed, residentOps: residentOps, streamedOps: streamedOps)
    }
}
