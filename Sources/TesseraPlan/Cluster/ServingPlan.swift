import TesseraCore
import TesseraModel
import TesseraSpec

/// One inference instance: `tp` consecutive GPUs that hold a copy of the model and run its
/// iterations together.
public struct ServingInstance: Sendable {
    public var name: String
    public var role: ServingSpec.Group.Role
    public var ranks: [Int]
    public var cost: ServingCost
    /// KV-cache tokens the instance holds (`ServingCost.kvCapacityTokens`).
    public var kvCapacityTokens: Int
}

/// Where a serving workload's instances sit on the cluster and how their transfers are planned.
///
/// Groups take ranks in order from 0 (colocated: `instances`; disaggregated: `prefill`, then
/// `decode`), each group split into instances of tp consecutive ranks, so an instance of up to
/// gpus_per_node GPUs stays inside a node when tp divides gpus_per_node.
public struct ServingPlan: Sendable {
    public var spec: ServingSpec
    public var topology: ClusterTopology
    public var instances: [ServingInstance]

    /// Places the groups and checks that they fit: enough GPUs, a throughput figure for the
    /// precision, weights that fit in memory, and room for the longest request's KV cache.
    public static func plan(_ spec: ServingSpec, precision: Precision, topology: ClusterTopology, file: String) throws(InputError) -> ServingPlan {
        var bag = DiagnosticBag()
        if spec.gpus > topology.ranks, let g = spec.groups.last {
            bag.error(g.location, "the serving groups need more GPUs than the cluster has", expected: "at most \(topology.ranks) GPUs in all (\(file))", found: "\(spec.gpus) GPUs (\(spec.groups.map { "\($0.role.rawValue == "both" ? "instances" : $0.role.rawValue) \($0.gpus)" }.joined(separator: " + ")))")
        }
        let name = precision.rawValue
        if topology.gpu.denseTFLOPS[name] == nil {
            bag.error(spec.location, "the GPU has no throughput figure for this precision", expected: "one of " + topology.gpu.denseTFLOPS.keys.sorted().joined(separator: ", ") + " (\(topology.gpu.name) in \(file))", found: "precision: \(name)")
        }
        try bag.throwIfErrors()
        var instances: [ServingInstance] = []
        var next = 0
        let longest = spec.requests.map { $0.prompt + $0.output }.max() ?? 0
        for g in spec.groups {
            let cost = ServingCost(model: spec.transformer, gpu: topology.gpu, precision: name, bytesPerElement: precision.bytes, tp: g.tp)
            let capacity = cost.kvCapacityTokens
            func gb(_ x: Double) -> String { formatDecimal((x / 1e9 * 10).rounded() / 10) + " GB" }
            if capacity <= 0 {
                bag.error(g.location, "the model's weights do not fit in the GPUs of one instance", expected: "weights per GPU (\(gb(cost.weightBytesPerGPU)) at tp \(g.tp)) below \(Int(ServingCost.memoryUtilization * 100))% of \(gb(topology.gpu.hbmCapacity)): a larger tp", found: "tp: \(g.tp)")
            } else if capacity < longest {
                bag.error(g.location, "one instance cannot hold the KV cache of the longest request", expected: "room for \(longest) tokens: a larger tp", found: "room for \(capacity) tokens at tp \(g.tp)")
            }
            let prefix = g.role == .both ? "instance" : g.role.rawValue
            for i in 0..<g.instances {
                instances.append(ServingInstance(name: "\(prefix)\(i)", role: g.role, ranks: Array(next..<(next + g.tp)), cost: cost, kvCapacityTokens: capacity))
                next += g.tp
            }
        }
        try bag.throwIfErrors()
        return ServingPlan(spec: spec, topology: topology, instances: instances)
    }

    /// A ring all-reduce of `bytes` over an instance's GPUs: 2(n−1) identical steps, each rank
    /// sending S/n to the next (Patarasuk and Yuan 2009): 2(n−1)(α + S/(nβ)) on idle links.
    public func allReducePlan(instance i: Int, bytes: UInt64) -> CollectivePlan {
        let ranks = instances[i].ranks, n = ranks.count
        let flows = n < 2 ? [] : ranks.indices.map { CollectiveFlow(src: ranks[$0], dst: ranks[($0 + 1) % n], bytes: Double(bytes) / Double(n)) }
        return CollectivePlan(op: .allReduce, algorithm: .ring, ranks: n, bytes: bytes, steps: flows.isEmpty ? [] : [CollectiveStep(flows: flows, repeats: 2 * (n - 1))])
    }

    /// The messages that move a request's KV cache of `bytes` from a prefill instance to a decode
    /// instance. Key/value heads are split in contiguous shares over each instance's GPUs, so
    /// prefill GPU i (share [i/t_p, (i+1)/t_p)) sends decode GPU j (share [j/t_d, (j+1)/t_d)) the
    /// bytes of the overlap of the two shares: one message per pair when t_p = t_d.
    public func kvTransferFlows(from p: Int, to d: Int, bytes: Double) -> [CollectiveFlow] {
        let src = instances[p].ranks, dst = instances[d].ranks
        var flows: [CollectiveFlow] = []
        for (i, s) in src.enumerated() {
            let lo = Double(i) / Double(src.count), hi = Double(i + 1) / Double(src.count)
            for (j, r) in dst.enumerated() {
                let overlap = min(hi, Double(j + 1) / Double(dst.count)) - max(lo, Double(j) / Double(dst.count))
                if overlap > 1e-12 { flows.append(CollectiveFlow(src: s, dst: r, bytes: bytes * overlap)) }
            }
        }
        return flows
    }

    /// Messages sent together as one step from an empty network.
    public func transferPlan(_ flows: [CollectiveFlow]) -> CollectivePlan {
        CollectivePlan(op: .sendRecv, algorithm: .direct, ranks: 2, bytes: UInt64(flows.reduce(0) { $0 + $1.bytes }), steps: [CollectiveStep(flows: flows, repeats: 1)])
    }
}
