/// Max-min fair rates on shared links by progressive filling (Bertsekas and Gallager, Data
/// Networks, §6.5.2), weighted: the one solver every network in the simulator uses.
///
/// Flow f moves at rate x_f and loads each link l of its path with x_f · w_{f,l}; the rates are the
/// max-min fair point of Σ_f x_f · w_{f,l} ≤ c_l and x_f ≤ `ceiling`: raise every unfrozen rate
/// together until a link is full (or the ceiling is reached), freeze the flows on the full links
/// (links tied within 10⁻¹² fill together), repeat. Messages of a collective step are flows with
/// weight 1 on each link of their route and no ceiling (rates in bytes per picosecond); whole
/// collectives sharing links are flows whose weights are their standalone average rates per link
/// and whose rate is a fraction of their standalone speed, at most 1.
/// Complexity: O(rounds × links + Σ path lengths), rounds ≤ flows.
public struct MaxMinFairShare: Sendable {
    /// For each flow, the links it crosses (as indices into `capacity`) and its weight on each.
    public let paths: [[(link: Int, weight: Double)]]
    /// For each link, the flows that cross it.
    let onLink: [[Int]]
    public let capacity: [Double]

    public init(paths: [[(link: Int, weight: Double)]], capacity: [Double]) {
        self.paths = paths
        self.capacity = capacity
        var on = Array(repeating: [Int](), count: capacity.count)
        for (f, p) in paths.enumerated() { for x in p { on[x.link].append(f) } }
        onLink = on
    }

    /// The fair rates of the `active` flows (inactive ones get 0), each at most `ceiling`.
    public func rates(active: [Bool], ceiling: Double = .infinity) -> [Double] {
        var rate = Array(repeating: 0.0, count: paths.count)
        solve(active: active, ceiling: ceiling, into: &rate)
        return rate
    }

    /// `rates(active:ceiling:)`, writing into `rate` (only active flows' entries change).
    public func solve(active: [Bool], ceiling: Double = .infinity, into rate: inout [Double]) {
        var cap = capacity
        // Σ weights of the unfrozen flows on each link, and how many there are (the count, exact,
        // says when a link has none left; the sum may keep a rounding residue).
        var open = Array(repeating: 0.0, count: capacity.count)
        var count = Array(repeating: 0, count: capacity.count)
        var frozen = active.map { !$0 }
        var left = 0
        for f in paths.indices where active[f] {
            left += 1
            for x in paths[f] {
                open[x.link] += x.weight
                count[x.link] += 1
            }
        }
        while left > 0 {
            var share = ceiling
            for l in cap.indices where count[l] > 0 && open[l] > 0 { share = min(share, max(0, cap[l]) / open[l]) }
            guard share.isFinite else { break }
            var tight: [Int] = []
            for l in cap.indices where count[l] > 0 && open[l] > 0 && max(0, cap[l]) / open[l] <= share * (1 + 1e-12) { tight.append(l) }
            if tight.isEmpty {
                // The ceiling binds before any link: every flow left runs at it.
                for f in paths.indices where !frozen[f] { rate[f] = share }
                break
            }
            for l in tight {
                for f in onLink[l] where !frozen[f] {
                    frozen[f] = true
                    left -= 1
                    rate[f] = share
                    for x in paths[f] {
                        cap[x.link] -= share * x.weight
                        open[x.link] -= x.weight
                        count[x.link] -= 1
                    }
                }
            }
        }
    }
}
