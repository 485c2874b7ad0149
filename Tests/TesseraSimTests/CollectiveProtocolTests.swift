import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

/// NCCL's protocol model (`nccl_protocol`): a collective under protocol p is the fabric model with
/// the fabric's latency replaced by p's per-step latency, the link bandwidth scaled by p's factor
/// (LL capped at llMaxBw), plus p's launch latency once. The tests hold the simulation to exactly
/// that, for the ring and the tree rows, inside a node (NVLink) and between nodes (network).
@Suite struct CollectiveProtocolTests {
    /// One DGX H100-like node: 8 GPUs on NVSwitch, 450 GB/s × 0.8, 1 µs, and a `protocol` line.
    func node(_ protocolLine: String = "", efficiency: Double = 0.8, latency: String = "1 us") throws -> ClusterTopology {
        try cluster("gpu: {preset: h100-sxm}\nnodes: 1\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: \(efficiency), latency: \(latency)}\n" + protocolLine)
    }

    /// Each forced protocol equals the fabric model with its latency and bandwidth, plus its launch
    /// latency: ring and double-binary-tree all-reduce, 8 B to 1 GiB.
    @Test(arguments: CollectiveProtocol.allCases)
    func aProtocolIsTheFabricModelWithNCCLsConstants(_ p: CollectiveProtocol) throws {
        let forced = try node("nccl_protocol: \(p.rawValue)\n")
        for (algorithm, row) in [(CollectiveSpec.Algorithm.ring, CollectiveProtocol.Row.ring), (.doubleBinaryTree, .tree)] {
            // LL's bandwidth is min(0.5 × 360 GB/s, Hopper's llMaxBw 141 GB/s on one node) = 141 GB/s.
            var share = 0.8 * p.bandwidthFactor(row, nodes: 1)
            if p == .ll { share = min(share, 141e9 / 450e9) }
            let latency = p.stepLatency(row, network: false)
            let equivalent = try node(efficiency: share, latency: "\(latency * 1e9) ns")
            for bytes: UInt64 in [8, 4096, 1 << 20, 1 << 30] {
                let got = try simulate(.allReduce, algorithm, bytes: bytes, on: forced).ps
                let fabric = try simulate(.allReduce, algorithm, bytes: bytes, on: equivalent).ps
                let launch = UInt64((p.launchLatency(row) * 1e12).rounded())
                #expect(got == fabric + launch, "\(p) \(algorithm) \(bytes) B: \(got) vs \(fabric) + \(launch)")
            }
        }
    }

    /// Between nodes the network rows apply (ring Simple: 14 µs a step) and `hop_latency` stays.
    @Test func betweenNodesTheNetworkLatencyApplies() throws {
        let inter = "nodes: 4\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s, latency: 5 us, hop_latency: 300 ns, nodes_per_leaf: 2}\n"
        let forced = try cluster(inter + "nccl_protocol: simple\n")
        let equivalent = try cluster(inter.replacingOccurrences(of: "latency: 5 us", with: "latency: 14 us"))
        let S: UInt64 = 64 << 20
        let got = try simulate(.allReduce, .ring, bytes: S, on: forced).ps
        let fabric = try simulate(.allReduce, .ring, bytes: S, on: equivalent).ps
        #expect(got == fabric + 8_400_000)
    }

    /// `auto` keeps the fastest of the three: LL for small messages, Simple for large ones.
    @Test func autoKeepsTheFastest() throws {
        let auto = try node("nccl_protocol: auto\n")
        for bytes: UInt64 in [8, 64 << 10, 16 << 20, 1 << 30] {
            let spec = CollectiveSpec(op: .allReduce, sizes: [bytes], algorithm: .ring, chunk: 1 << 20, location: .init(file: "w", line: 1, column: 1), algorithmLocation: .init(file: "w", line: 1, column: 1))
            let plan = try CollectivePlanner.plan(spec, bytes: bytes, topology: auto)
            let r = try LinkSimulator(topology: auto).run(plan)
            let each = try CollectiveProtocol.allCases.map { p in try simulate(.allReduce, .ring, bytes: bytes, on: node("nccl_protocol: \(p.rawValue)\n")).ps }
            #expect(r.picoseconds == each.min(), "\(bytes) B: \(r.picoseconds) vs \(each)")
            if bytes == 8 { #expect(r.ncclProtocol == .ll) }
            if bytes == 1 << 30 { #expect(r.ncclProtocol == .simple) }
        }
        // The fabric model names no protocol.
        #expect(try LinkSimulator(topology: node()).run(CollectivePlanner.plan(
            CollectiveSpec(op: .allReduce, sizes: [8], algorithm: .ring, chunk: 1 << 20, location: .init(file: "w", line: 1, column: 1), algorithmLocation: .init(file: "w", line: 1, column: 1)),
            bytes: 8, topology: node())).ncclProtocol == nil)
    }

    /// NVLink SHARP: one step in which every GPU's port carries S up and S down, at the link's
    /// bandwidth × efficiency × 0.85 × 15/16, after 25 µs (NCCL's NVLS latency, no launch latency).
    @Test func nvlinkSharpTakesItsClosedForm() throws {
        let auto = try node("nccl_protocol: auto\n")
        for bytes: UInt64 in [1 << 20, 1 << 30] {
            let ps = try simulate(.allReduce, .nvls, bytes: bytes, on: auto).ps
            let expected = 25e-6 + Double(bytes) / (450e9 * 0.8 * 0.85 * 15 / 16)
            #expect(abs(Double(ps) / 1e12 - expected) < 2e-12, "\(bytes) B: \(ps) ps vs \(expected) s")
        }
        // auto picks it for large all-reduces on an H100 node, as NCCL does (LL below about 1 MiB).
        #expect(CollectivePlanner.candidates(.allReduce, topology: auto).contains(.nvls))
        #expect(!CollectivePlanner.candidates(.allReduce, topology: try node()).contains(.nvls))
    }

    /// NVLS only where NCCL has it: one NVSwitch node of a Hopper-class GPU, with NCCL's protocols.
    @Test func nvlinkSharpIsRefusedWhereNCCLHasNone() throws {
        let at = SourceLocation(file: "w.yaml", line: 3, column: 5)
        let spec = CollectiveSpec(op: .allReduce, sizes: [1 << 20], algorithm: .nvls, chunk: 1 << 20, location: at, algorithmLocation: at)
        let a100 = try cluster("gpu: {preset: a100-sxm}\nnodes: 1\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 300 GB/s}\nnccl_protocol: auto\n")
        let twoNodes = try cluster("gpu: {preset: h100-sxm}\nnodes: 2\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s}\ninter_node: {kind: switch, bandwidth: 50 GB/s}\nnccl_protocol: auto\n")
        for t in [try node(), try node("nccl_protocol: ll\n"), a100, twoNodes] {
            do {
                _ = try CollectivePlanner.plan(spec, bytes: 1 << 20, topology: t)
                Issue.record("nvls accepted")
            } catch {
                #expect(error.description.hasPrefix("w.yaml:3:5: error: NVLink SHARP"), "\(error)")
            }
        }
    }

    /// An unknown protocol is a located error with a suggestion.
    @Test func anUnknownProtocolIsLocated() {
        do {
            _ = try node("nccl_protocol: ll12\n")
            Issue.record("accepted nccl_protocol: ll12")
        } catch let e as InputError {
            #expect(e.description.hasPrefix("c.yaml:8:16: error: unknown NCCL protocol"), "\(e)")
            #expect(e.description.contains("did you mean 'll128'?"), "\(e)")
        } catch { Issue.record("\(error)") }
    }

    /// `collective_floor`: a call takes at least the floor (time = max(floor, the links' time)):
    /// a small all-reduce takes exactly the floor, a large one its links' time, a plan with no
    /// messages nothing; the same under NCCL's protocols.
    @Test func aCollectiveTakesAtLeastTheFloor() throws {
        for protocolLine in ["", "nccl_protocol: auto\n"] {
            let plain = try node(protocolLine), floored = try node(protocolLine + "collective_floor: 20 us\n")
            #expect(abs(floored.spec.collectiveFloor - 20e-6) < 1e-15)
            for bytes: UInt64 in [8, 64 << 10, 1 << 30] {
                let links = try simulate(.allReduce, .ring, bytes: bytes, on: plain).ps
                let got = try simulate(.allReduce, .ring, bytes: bytes, on: floored).ps
                #expect(got == max(links, 20_000_000), "\(bytes) B: \(got) vs \(links)")
            }
            #expect(try simulate(.allReduce, .ring, bytes: 8, on: plain).ps < 20_000_000)
            #expect(try simulate(.allReduce, .ring, bytes: 1 << 30, on: plain).ps > 20_000_000)
            let empty = CollectivePlan(op: .allReduce, algorithm: .ring, ranks: 8, bytes: 0, steps: [])
            #expect(try LinkSimulator(topology: floored).run(empty).picoseconds == 0)
        }
    }

    /// A floor that is not a time is a located error.
    @Test func aFloorThatIsNotATimeIsLocated() {
        for bad in ["fast", "-2 us", "20 GB/s"] {
            do {
                _ = try node("collective_floor: \(bad)\n")
                Issue.record("accepted collective_floor: \(bad)")
            } catch let e as InputError {
                #expect(e.description.hasPrefix("c.yaml:8:19: error: "), "\(e)")
            } catch { Issue.record("\(error)") }
        }
    }
}
