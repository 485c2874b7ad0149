import Testing
import TesseraTestSupport

@testable import TesseraSim

/// The one max-min fair-share solver against textbook cases (Bertsekas and Gallager §6.5.2) and
/// its invariants on seeded random networks.
@Suite struct MaxMinFairShareTests {
    /// Three flows on one link of 9 share it equally; a flow alone on a second link keeps it all.
    @Test func equalSplitAndFreeLinks() {
        let n = MaxMinFairShare(paths: [[(0, 1)], [(0, 1)], [(0, 1)], [(1, 1)]], capacity: [9, 5])
        #expect(n.rates(active: [true, true, true, true]) == [3, 3, 3, 5])
        #expect(n.rates(active: [true, false, true, false]) == [4.5, 0, 4.5, 0])
    }

    /// The textbook chain: links of capacity 1; flow 0 crosses both, flow 1 the first, flow 2 the
    /// second, flow 3 the second too: link 1 binds at 1/3 for flows 0, 2, 3, flow 1 gets 2/3.
    @Test func chainIsMaxMinFair() {
        let n = MaxMinFairShare(paths: [[(0, 1), (1, 1)], [(0, 1)], [(1, 1)], [(1, 1)]], capacity: [1, 1])
        let r = n.rates(active: [true, true, true, true])
        for (x, e) in zip(r, [1.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3]) { #expect(abs(x - e) < 1e-12) }
    }

    /// Weighted flows with a ceiling: a flow using 3/4 of a link at full speed shares it with
    /// another at 2/3 each; room for both leaves both at the ceiling.
    @Test func weightsAndCeiling() {
        let n = MaxMinFairShare(paths: [[(0, 75)], [(0, 75)]], capacity: [100])
        #expect(n.rates(active: [true, true], ceiling: 1).allSatisfy { abs($0 - 2.0 / 3) < 1e-12 })
        let roomy = MaxMinFairShare(paths: [[(0, 40)], [(0, 50)]], capacity: [100])
        #expect(roomy.rates(active: [true, true], ceiling: 1) == [1, 1])
        // A flow that crosses no link runs at the ceiling; with no ceiling it gets none.
        let empty = MaxMinFairShare(paths: [[]], capacity: [])
        #expect(empty.rates(active: [true], ceiling: 1) == [1])
        #expect(empty.rates(active: [true]) == [0])
    }

    /// On seeded random networks: no link is over capacity, and every active flow is held by a full
    /// link on its path (or by the ceiling): the definition of max-min fairness.
    @Test func randomNetworksAreFeasibleAndBottlenecked() {
        var random = SplitMix64(seed: 13)
        func next() -> UInt64 { random.next() }
        for _ in 0..<200 {
            let links = Int(next() % 6) + 1, flows = Int(next() % 8) + 1
            let capacity = (0..<links).map { _ in Double(next() % 100 + 1) }
            let paths: [[(link: Int, weight: Double)]] = (0..<flows).map { _ in
                let k = Int(next() % UInt64(links)) + 1
                return Array(Set((0..<k).map { _ in Int(next() % UInt64(links)) })).sorted().map { ($0, Double(next() % 4 + 1) / 2) }
            }
            let active = (0..<flows).map { _ in next() % 5 != 0 }
            let ceiling = next() % 2 == 0 ? Double.infinity : Double(next() % 50 + 1)
            let n = MaxMinFairShare(paths: paths, capacity: capacity)
            let r = n.rates(active: active, ceiling: ceiling)
            var load = [Double](repeating: 0, count: links)
            for f in 0..<flows where active[f] { for x in paths[f] { load[x.link] += r[f] * x.weight } }
            for l in 0..<links { #expect(load[l] <= capacity[l] * (1 + 1e-9), "link \(l) over capacity") }
            for f in 0..<flows {
                guard active[f] else {
                    #expect(r[f] == 0)
                    continue
                }
                guard !paths[f].isEmpty else { continue }
                let atCeiling = r[f] >= ceiling * (1 - 1e-9)
                // Some link on its path is full, and no flow on it gets more than this one.
                let bottleneck = paths[f].contains { x in
                    load[x.link] >= capacity[x.link] * (1 - 1e-9)
                        && (0..<flows).allSatisfy { g in !active[g] || !paths[g].contains { $0.link == x.link } || r[g] <= r[f] * (1 + 1e-9) }
                }
                #expect(atCeiling || bottleneck, "flow \(f) is held by nothing")
            }
        }
    }
}
