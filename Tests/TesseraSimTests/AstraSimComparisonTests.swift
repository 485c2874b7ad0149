import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

/// Tessera against ASTRA-sim 2.0's congestion-aware analytical backend (`AstraSimReference`) on the
/// same flat cluster: n NPUs on a `Ring`, a `Switch` or `FullyConnected`, every link 50 "GB/s"
/// and 500 ns in ASTRA-sim's network.yml (`examples/network/analytical/Ring_4npus.yml` uses
/// these figures). ASTRA-sim's GB/s is 2^30 B/s (`bw_GBps_to_Bpns`), so Tessera is given
/// `bandwidth: 50 GiB/s` (53.687 GB/s), `latency: 500 ns`, one GPU per node, efficiency 1.
///
/// Two system-layer settings: the shipped example (`Ring_4chunks.json`: 4 chunks, one in flight)
/// and 16 chunks all in flight. Sizes follow nccl-tests (ASTRA-sim's all-gather is given S/n).
private enum Astra {
    static let gbps = 50.0
    static let latencyNs = 500.0
    static let ranks = [3, 4, 5, 8, 12]
    static let large: [UInt64] = [64 << 20, 1 << 30]
    static let cases: [(AstraSimReference.Op, AstraSimReference.Algorithm)] = [
        (.allReduce, .ring), (.reduceScatter, .ring), (.allGather, .ring),
        (.allReduce, .direct), (.reduceScatter, .direct), (.allGather, .direct), (.allToAll, .direct),
    ]

    static func reference(_ topology: AstraSimReference.Topology, _ n: Int, splits: Int, active: Int) -> AstraSimReference {
        AstraSimReference(topology: topology, npus: n, bandwidthGBps: gbps, latencyNs: latencyNs, splits: splits, activeChunks: active)
    }

    static func kind(_ t: AstraSimReference.Topology) -> String {
        switch t {
        case .ring: "ring"
        case .switched: "switch"
        case .fullyConnected: "fully-connected"
        }
    }

    /// The same cluster as Tessera YAML, built as the pipeline builds it.
    static func cluster(_ t: AstraSimReference.Topology, _ n: Int) throws -> ClusterTopology {
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: astra-\(kind(t))-\(n)\nkind: gpu-cluster\nnodes: \(n)\ngpus_per_node: 1\ninter_node: {kind: \(kind(t)), bandwidth: \(gbps) GiB/s, latency: \(latencyNs) ns}\n",
            file: "astra.yaml")
        return try #require(hw.cluster.flatMap(ClusterTopology.init))
    }

    /// Tessera's time for one collective, nanoseconds: workload YAML → plan → link simulation.
    static func tessera(_ op: AstraSimReference.Op, _ algorithm: AstraSimReference.Algorithm, bytes: UInt64, on t: ClusterTopology) throws -> Double {
        let yaml = "tessera: 1\nname: w\ncollective: {op: \(op.rawValue), sizes: [\(bytes) B], algorithm: \(algorithm.rawValue)}\n"
        let wl = try WorkloadLoader.parse(yaml, file: "w.yaml")
        let c = try #require(wl.collective)
        let plan = try CollectivePlanner.plan(c, bytes: bytes, topology: t)
        return Double(try LinkSimulator(topology: t).run(plan).picoseconds) / 1000
    }

    /// ASTRA-sim's time over Tessera's.
    static func ratio(
        _ op: AstraSimReference.Op, _ algorithm: AstraSimReference.Algorithm, _ topology: AstraSimReference.Topology, n: Int, bytes: UInt64, splits: Int, active: Int
    ) throws -> Double {
        let astra = Double(reference(topology, n, splits: splits, active: active).run(op, algorithm, bytes: bytes))
        return astra / (try tessera(op, algorithm, bytes: bytes, on: cluster(topology, n)))
    }
}

@Suite struct AstraSimReferenceTests {
    /// 50 ASTRA-sim "GB/s" is 50 × 2^30 B/s, and Tessera's `50 GiB/s` link carries exactly that.
    @Test func bandwidthIsBinaryGigabytes() throws {
        let ref = Astra.reference(.ring, 4, splits: 1, active: 1)
        #expect(ref.bytesPerSecond == 53_687_091_200)
        #expect(abs(ref.bytesPerNs - 53.6870912) < 1e-9)
        #expect(try Astra.cluster(.ring, 4).capacity(0) == ref.bytesPerSecond)
    }

    /// One chunk of a ring all-reduce, closed form: the first send after the endpoint delay, then
    /// 2(n−1) steps of h hops × ⌊L + m/B⌋ (store-and-forward: every hop serializes the whole
    /// message) plus the endpoint delay, and the reduction on the n−1 reduce-scatter steps.
    @Test(arguments: [AstraSimReference.Topology.ring, .switched, .fullyConnected])
    func ringAllReduceClosedForm(_ topology: AstraSimReference.Topology) {
        for n in [2, 3, 8] {
            let ref = Astra.reference(topology, n, splits: 1, active: 1)
            let S: UInt64 = 3 << 20
            let m = S / UInt64(n)
            let hops: UInt64 = topology == .switched ? 2 : 1
            let perHop = UInt64(ref.latencyNs + Double(m) / ref.bytesPerNs)
            let K = UInt64(2 * (n - 1))
            let expected = 10 + K * (hops * perHop + 10) + 30 * UInt64(n - 1)
            #expect(ref.run(.allReduce, .ring, bytes: S) == expected, "\(topology) n=\(n)")
        }
    }

    /// github.com/astra-sim/astra-sim/issues/296: 100 MB all-reduce on 8 NPUs behind a switch, 50
    /// GB/s, 10 ns, 8 splits, one active chunk; "direct" is reported about 2× faster than "ring".
    /// Store-and-forward explains it: a ring step crosses two links one after the other (2m/B),
    /// while direct keeps the up link busy and adds only the last message's down hop.
    @Test func directBeatsRingOnASwitchAsIssue296Reports() {
        let ref = AstraSimReference(topology: .switched, npus: 8, bandwidthGBps: 50, latencyNs: 10, splits: 8, activeChunks: 1)
        let ring = Double(ref.run(.allReduce, .ring, bytes: 100_000_000))
        let direct = Double(ref.run(.allReduce, .direct, bytes: 100_000_000))
        #expect(ring / direct > 1.6 && ring / direct < 2.1, "ring/direct = \(ring / direct)")
    }

    /// A link is a FIFO: two chunks sent at once on the same link leave one after the other, and
    /// a chunk crossing two links of a ring arrives 2(L + m/B) after it was sent.
    @Test func directOnARingQueuesAndStoresAndForwards() {
        // Three NPUs: every destination is one hop away; each NPU's two messages use different links.
        let three = Astra.reference(.ring, 3, splits: 1, active: 1)
        let m: UInt64 = 3 << 20
        let hop = UInt64(three.latencyNs + Double(m / 3) / three.bytesPerNs)
        #expect(three.run(.allToAll, .direct, bytes: m) == 10 + hop + 10)
        // Four NPUs: i → i+2 goes clockwise (a tie) over two links; on the first it queues behind
        // i → i+1, sent just before it (q/B), and it enters the second only once it has arrived.
        let four = Astra.reference(.ring, 4, splits: 1, active: 1)
        let b = four.bytesPerNs, q = Double(m / 4)
        let firstHop = 10 + UInt64(q / b) + UInt64(four.latencyNs + q / b)
        let secondHop = firstHop + UInt64(four.latencyNs + q / b)
        #expect(four.run(.allToAll, .direct, bytes: m) == secondHop + 10)
    }
}

@Suite struct AstraSimComparisonTests {
    /// ASTRA-sim's example system config (4 chunks, one in flight): on a ring and on a fully
    /// connected network every step is one link, so both simulators are the α-β model; large
    /// messages agree within 10% (measured: within 1.6%) for every op, algorithm and rank count.
    @Test(arguments: [AstraSimReference.Topology.ring, .fullyConnected])
    func exampleConfigAgreesOnPointToPointLinks(_ topology: AstraSimReference.Topology) throws {
        for (op, algorithm) in Astra.cases {
            for n in Astra.ranks {
                for S in Astra.large {
                    let r = try Astra.ratio(op, algorithm, topology, n: n, bytes: S, splits: 4, active: 1)
                    #expect(abs(r - 1) <= 0.10, "\(op.rawValue) \(algorithm.rawValue) on \(topology) n=\(n) S=\(S): ASTRA-sim/Tessera = \(r)")
                }
            }
        }
    }

    /// Sixteen chunks, all in flight: a switch's two store-and-forward hops overlap across chunks
    /// (one chunk crosses the down link while the next crosses the up link), so all three
    /// topologies agree within 10% for large messages (measured: within 3.2%, worst n = 3).
    @Test(arguments: AstraSimReference.Topology.allCases)
    func chunksInFlightAgreeOnAllTopologies(_ topology: AstraSimReference.Topology) throws {
        for (op, algorithm) in Astra.cases {
            for n in Astra.ranks {
                for S in Astra.large {
                    let r = try Astra.ratio(op, algorithm, topology, n: n, bytes: S, splits: 16, active: 16)
                    #expect(abs(r - 1) <= 0.10, "\(op.rawValue) \(algorithm.rawValue) on \(topology) n=\(n) S=\(S): ASTRA-sim/Tessera = \(r)")
                }
            }
        }
    }

    /// By design they differ on a switch with one chunk in flight: ASTRA-sim's switch is
    /// store-and-forward, so a message crosses the up link, then the down link, each serializing
    /// it whole, and nothing else overlaps them. A ring step takes 2(L + m/B): twice Tessera's
    /// cut-through α + m/β. A direct round puts n−1 messages on the up link and the last one then
    /// crosses a down link: n·m/B against Tessera's (n−1)·m/β, n/(n−1) as long (more than 10%
    /// up to n = 10; 9% at n = 12).
    @Test func oneChunkInFlightOnAStoreAndForwardSwitchIsSlower() throws {
        for n in Astra.ranks {
            for S in Astra.large {
                for (op, algorithm) in Astra.cases {
                    let r = try Astra.ratio(op, algorithm, .switched, n: n, bytes: S, splits: 4, active: 1)
                    let expected = algorithm == .ring ? 2 : Double(n) / Double(n - 1)
                    #expect(abs(r / expected - 1) < 0.02, "\(op.rawValue) \(algorithm.rawValue) n=\(n) S=\(S): \(r), expected \(expected)")
                    if n <= 10 { #expect(r > 1.10, "\(op.rawValue) \(algorithm.rawValue) n=\(n) S=\(S): \(r)") }
                }
            }
        }
    }

    /// Small messages (1 MiB on 8 ranks) are latency-bound and the models part:
    /// - one chunk in flight: ASTRA-sim pays every step's latency once per chunk (4 ×), and on a
    ///   switch once per link (store-and-forward: 2L + 2m/B where Tessera's cut-through route
    ///   pays α + m/β), plus 10–40 ns of endpoint and reduction delay per step: slower by > 10%.
    /// - sixteen chunks in flight: ASTRA-sim overlaps the chunks' latencies (a link is free again
    ///   after serializing, while the chunk is still in flight), whereas Tessera's steps are
    ///   barriers that each wait a full α: ASTRA-sim faster by > 10%.
    @Test(arguments: AstraSimReference.Topology.allCases)
    func smallMessagesDiverge(_ topology: AstraSimReference.Topology) throws {
        let S: UInt64 = 1 << 20
        let serial = try Astra.ratio(.allReduce, .ring, topology, n: 8, bytes: S, splits: 4, active: 1)
        #expect(serial > 1.10, "one chunk in flight, \(topology): \(serial)")
        let overlapped = try Astra.ratio(.allReduce, .ring, topology, n: 8, bytes: S, splits: 16, active: 16)
        #expect(overlapped < 0.90, "sixteen chunks in flight, \(topology): \(overlapped)")
    }

    /// Halving-doubling (n a power of two) and ring all-to-all, ASTRA-sim's example config, on a
    /// ring and fully connected: large messages within 5% (measured: within 2.0%, ring all-to-all
    /// at n = 16 and 64 MiB the worst). Before the nearest-partner-first order, halving-doubling on
    /// a ring was 1.75× ASTRA-sim's time at n = 8 and 2.65× at n = 16; the ring all-to-all was refused.
    @Test(arguments: [AstraSimReference.Topology.ring, .fullyConnected])
    func halvingDoublingAndRingAllToAllAgree(_ topology: AstraSimReference.Topology) throws {
        let cases: [(AstraSimReference.Op, AstraSimReference.Algorithm)] = [
            (.allReduce, .halvingDoubling), (.reduceScatter, .halvingDoubling), (.allGather, .halvingDoubling), (.allToAll, .ring),
        ]
        for (op, algorithm) in cases {
            for n in [4, 8, 16] {
                for S in Astra.large {
                    let r = try Astra.ratio(op, algorithm, topology, n: n, bytes: S, splits: 4, active: 1)
                    #expect(abs(r - 1) <= 0.05, "\(op.rawValue) \(algorithm.rawValue) on \(topology) n=\(n) S=\(S): ASTRA-sim/Tessera = \(r)")
                }
            }
        }
    }

    /// With sixteen chunks in flight ASTRA-sim pipelines a halving-doubling's chunks across its
    /// steps (one chunk's step k on one partner's links while the next chunk's step k−1 uses
    /// another's); Tessera's collective steps are barriers, so it is slower by design: ASTRA-sim
    /// takes 0.53–0.69 of Tessera's time fully connected and 0.81–0.84 on a ring (n = 4–16). A
    /// ring all-to-all, one neighbour link per step, still agrees.
    @Test func halvingDoublingChunksPipelineInASTRASim() throws {
        let S: UInt64 = 1 << 30
        let connected = try Astra.ratio(.allReduce, .halvingDoubling, .fullyConnected, n: 8, bytes: S, splits: 16, active: 16)
        #expect(connected < 0.7, "\(connected)")
        let ring = try Astra.ratio(.allReduce, .halvingDoubling, .ring, n: 8, bytes: S, splits: 16, active: 16)
        #expect(ring < 0.9 && ring > 0.75, "\(ring)")
        let a2a = try Astra.ratio(.allToAll, .ring, .ring, n: 8, bytes: S, splits: 16, active: 16)
        #expect(abs(a2a - 1) < 0.02, "\(a2a)")
    }

    /// Tessera's halving-doubling on a ring of n, closed form: step k sends S/2^(k+1) to the rank
    /// 2^k away (the shorter way round; clockwise on the tie at n/2), 2^k messages share each
    /// link, so each step lasts α + S/(2β): log₂n·(α + S/(2β)) for a reduce-scatter.
    @Test func halvingDoublingOnARingTakesTheNearestFirstClosedForm() throws {
        for n in [4, 8, 16] {
            let t = try Astra.cluster(.ring, n)
            let S: UInt64 = 1 << 30
            let ns = try Astra.tessera(.reduceScatter, .halvingDoubling, bytes: S, on: t)
            let beta = t.capacity(0) / 1e9  // bytes per ns
            let expected = log2(Double(n)) * (Astra.latencyNs + Double(S) / 2 / beta)
            #expect(abs(ns / expected - 1) < 1e-6, "n=\(n): \(ns) ns, closed form \(expected)")
        }
    }
}
