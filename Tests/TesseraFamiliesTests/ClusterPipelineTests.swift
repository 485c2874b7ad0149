import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraGraph
import TesseraSpec

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

/// Runs a bundled cluster config on an inline collective workload.
private func busbw(_ config: String, op: String = "all-reduce", algorithm: String = "ring", bytes: String = "8 GiB") throws -> Report.Collective {
    let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent(config).path)
    let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: \(op), sizes: [\(bytes)], algorithm: \(algorithm)}\n", file: "w.yaml")
    let out = try Pipeline(hardware: hw, workload: wl).run()
    return try #require(out.report.collectives.first)
}

private func within(_ x: Double, _ published: Double, _ tolerance: Double = 0.15) -> Bool { abs(x - published) / published <= tolerance }

@Suite struct ClusterPublishedBandwidthTests {
    /// 8 × A100 SXM4 in one node, ring all-reduce: 232.54 GB/s busbw measured with nccl-tests
    /// (github.com/NVIDIA/nccl-tests/issues/175, single node, all_reduce_perf -b 8 -e 4G -g 8).
    @Test func dgxA100AllReduceNCCLTests175() throws {
        let c = try busbw("configs/gpu/dgx-a100-x1.yaml")
        #expect(within(c.busbwGBps, 232.54), "\(c.busbwGBps) GB/s")
    }

    /// 8 × H100 SXM5 in one node, ring all-reduce: "NCCL can get an effective NVLink bandwidth of
    /// 370GB/s … when running with NCCL_ALGO=RING" (github.com/NVIDIA/nccl-tests/issues/212).
    @Test func dgxH100AllReduceNCCLTests212() throws {
        let c = try busbw("configs/gpu/dgx-h100-x1.yaml")
        #expect(within(c.busbwGBps, 370), "\(c.busbwGBps) GB/s")
    }

    /// Sixteen DGX H100 over eight NDR 400 Gb/s NICs each, ring all-reduce: "For NDR @ 400Gbps you
    /// should see 46-48GB/s per NIC" (github.com/NVIDIA/nccl-tests/issues/290), × 8 rails ≈ 380 GB/s.
    @Test func dgxH100x16AllReduceNCCLTests290() throws {
        let c = try busbw("configs/gpu/dgx-h100-x16.yaml")
        #expect(c.ranks == 128)
        #expect(within(c.busbwGBps, 380), "\(c.busbwGBps) GB/s")
    }

    /// Two DGX A100 over eight HDR 200 Gb/s NICs each, ring all-reduce: "On an Nvidia DGX-A100
    /// system we have 8x200Gbit/s IB cards and we measure 192GB/s AllReduce BusBW"
    /// (github.com/NVIDIA/nccl/issues/1576, quoting issue 812). Same NIC efficiency as NDR.
    @Test func twoDGXA100OverHDRNCCL1576() throws {
        let hw = try KindTable.hardwareLoader.parse(
            """
            tessera: 1
            name: dgx-a100-x2
            kind: gpu-cluster
            gpu: {preset: a100-sxm}
            nodes: 2
            gpus_per_node: 8
            intra_node: {kind: nvswitch, bandwidth: 300 GB/s, efficiency: 0.8, latency: 1 us}
            inter_node: {kind: switch, nic: 200 Gb/s, nics_per_node: 8, efficiency: 0.95, latency: 5 us}
            """, file: "dgx-a100-x2.yaml")
        let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [8 GiB], algorithm: ring}\n", file: "w.yaml")
        let c = try #require(try Pipeline(hardware: hw, workload: wl).run().report.collectives.first)
        #expect(within(c.busbwGBps, 192), "\(c.busbwGBps) GB/s")
    }

    /// One NDR NIC between two nodes: 46–48 GB/s (nccl-tests issue 290); the middle is 47 GB/s.
    @Test func oneNDRNICNCCLTests290() throws {
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: two\nkind: gpu-cluster\nnodes: 2\ninter_node: {kind: switch, nic: 400 Gb/s, efficiency: 0.95, latency: 5 us}\n", file: "two.yaml")
        let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [8 GiB], algorithm: ring}\n", file: "w.yaml")
        let c = try #require(try Pipeline(hardware: hw, workload: wl).run().report.collectives.first)
        #expect(within(c.busbwGBps, 47), "\(c.busbwGBps) GB/s")
    }
}

@Suite struct ClusterPipelineTests {
    @Test func reportCarriesOneCollectiveEntryPerSize() throws {
        let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/gpu/ring-8.yaml").path)
        let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/ar-sweep.yaml").path)
        let report = try Pipeline(hardware: hw, workload: wl).run().report
        #expect(report.collectives.map(\.bytes) == [1 << 20, 64 << 20, 1 << 30])
        for c in report.collectives {
            #expect(c.op == "all-reduce" && c.algorithm == "ring" && c.ranks == 8)
            #expect(abs(c.busbwGBps - c.algbwGBps * 2 * 7 / 8) < 1e-9)
            #expect(abs(c.algbwGBps - Double(c.bytes) / c.seconds / 1e9) < 1e-9)
        }
        let json = report.json()
        for key in ["\"collectives\"", "\"algbw_gbps\"", "\"busbw_gbps\"", "\"op\": \"all-reduce\"", "\"algorithm\": \"ring\""] { #expect(json.contains(key)) }
        let again = try Pipeline(hardware: hw, workload: wl).run().report
        #expect(again.json() == json, "two runs write byte-identical reports")
        #expect(report.csv().hasPrefix("op,algorithm,ranks,bytes,seconds,algbw_gbps,busbw_gbps\n"))
        #expect(report.markdown().contains("## Collectives"))
        // Per-link utilization: the 8 clockwise ring links carried traffic, each busy most of the run.
        #expect(report.units.count == 8)
        #expect(report.units.allSatisfy { $0.kind == "ring-link" && $0.utilization > 0.9 && $0.utilization <= 1 })
    }

    /// `auto` keeps NCCL's fastest algorithm for each size: across 16 DGX nodes the tree for 64 KiB
    /// and 16 MiB (log n latency terms), the ring for 1 GiB (the tree's algbw tops out at β/2); on a
    /// ring network, always the ring. Each pick is no slower than the other candidate named.
    @Test func autoPicksTheFastestOfNCCLsAlgorithms() throws {
        let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/ar-auto.yaml").path)
        for (config, picks) in [("configs/gpu/ring-8.yaml", ["ring", "ring", "ring"]), ("configs/gpu/dgx-h100-x16.yaml", ["double-binary-tree", "double-binary-tree", "ring"])] {
            let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent(config).path)
            let report = try Pipeline(hardware: hw, workload: wl).run().report
            #expect(report.collectives.map(\.algorithm) == picks, "\(config)")
            for other in ["ring", "double-binary-tree"] {
                var named = wl
                named.collective?.algorithm = CollectiveSpec.Algorithm(rawValue: other) ?? .ring
                let r = try Pipeline(hardware: hw, workload: named).run().report
                for (a, b) in zip(report.collectives, r.collectives) { #expect(a.seconds <= b.seconds, "\(config) \(a.bytes) B: auto \(a.algorithm) vs \(other)") }
            }
        }
    }

    /// C4 on nccl-tests: one NIC link at a quarter of its bandwidth makes every ring of the 16-node
    /// all-reduce wait for it (busbw falls almost 4× at 8 GiB), and the report names the link from
    /// the late messages alone. A GPU fault or a later `at` has no meaning for a microbenchmark.
    @Test func aSlowNICLinkIsFoundFromTheCollectivesTiming() throws {
        let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/gpu/dgx-h100-x16.yaml").path)
        let base = "tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [8 GiB], algorithm: ring}\n"
        let healthy = try Pipeline(hardware: hw, workload: try WorkloadLoader.parse(base, file: "w.yaml")).run().report
        let slow = try Pipeline(hardware: hw, workload: try WorkloadLoader.parse(base + "faults:\n  - {link: node5.nic2.up, slowdown: 4}\n", file: "w.yaml")).run().report
        #expect(slow.collectiveFindings?.slowestLink?.name == "node5.nic2.up")
        let ratio = try #require(healthy.collectives.first).busbwGBps / (try #require(slow.collectives.first).busbwGBps)
        #expect(ratio > 3.5 && ratio < 4.01, "\(ratio)")
        #expect(slow.json().contains("\"slowest_link\""))
        #expect(healthy.collectiveFindings == nil)
        for bad in ["  - {gpu: 3, slowdown: 2}\n", "  - {link: node5.nic2.up, slowdown: 2, at: 1 ms}\n"] {
            #expect(throws: InputError.self) { try WorkloadLoader.parse(base + "faults:\n" + bad, file: "w.yaml") }
        }
    }

    @Test func collectiveOnAnAcceleratorAndLayersOnAClusterAreLocatedErrors() throws {
        let array = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path)
        let coll = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/ar-sweep.yaml").path)
        #expect(throws: InputError.self) { try Pipeline(hardware: array, workload: coll).run() }
        let ring = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/gpu/ring-8.yaml").path)
        let layers = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/small-cnn.yaml").path)
        #expect(throws: InputError.self) { try Pipeline(hardware: ring, workload: layers).run() }
    }

    /// Ranks that do not divide: halving-doubling reduce-scatter on 6 ranks points at the algorithm.
    @Test func ranksThatDoNotDivideNameTheAlgorithm() throws {
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: six\nkind: gpu-cluster\nnodes: 6\ninter_node: {kind: switch, bandwidth: 50 GB/s}\n", file: "six.yaml")
        let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: reduce-scatter, sizes: [1 MiB], algorithm: halving-doubling}\n", file: "w.yaml")
        do {
            _ = try Pipeline(hardware: hw, workload: wl).run()
            Issue.record("no error")
        } catch let e as InputError {
            let d = try #require(e.diagnostics.first)
            #expect(d.description.hasPrefix("w.yaml:3:61: error: halving-doubling reduce-scatter needs a power-of-two number of ranks"), "\(d)")
            #expect(d.expected != nil && d.found != nil)
        }
    }

    @Test func presetsOverrideFieldByField() throws {
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: g\nkind: gpu-cluster\ngpu: {preset: h100-sxm, hbm_bandwidth: 4 TB/s, dense_tflops: {fp8: 2000}}\nnodes: 2\ninter_node: {kind: ring, bandwidth: 50 GB/s}\n",
            file: "g.yaml")
        let t = try #require(hw.cluster.flatMap(ClusterTopology.init))
        #expect(t.gpu.hbmBandwidth == 4e12)
        #expect(t.gpu.denseTFLOPS["fp8"] == 2000)
        #expect(t.gpu.denseTFLOPS["fp16"] == 989.4)
        #expect(t.gpu.sparseTFLOPS["fp16"] == 1978.8)
        #expect(t.gpu.hbmCapacity == 80e9 && t.gpu.sms == 132)
    }
}

@Suite struct ClusterLimitTests {
    private func run(_ hw: String, _ wl: String) throws -> Report {
        let h = try KindTable.hardwareLoader.parse(hw, file: "hw.yaml")
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        return try Pipeline(hardware: h, workload: w).run().report
    }

    /// A transfer longer than the picosecond clock holds is a located input error, not a crash.
    @Test func transfersBeyondTheClockAreRefused() throws {
        #expect(throws: InputError.self) {
            try run(
                "tessera: 1\nname: slow\nkind: gpu-cluster\nnodes: 2\ninter_node: {kind: ring, bandwidth: 1 B/s}\n",
                "tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [1 GiB]}\n")
        }
    }

    /// Steps of millions of messages are refused; a pipelined broadcast of a trillion chunks is not
    /// simulated chunk by chunk (its steps are merged).
    @Test func hugeStepsAreRefusedAndLongPipelinesMerged() throws {
        #expect(throws: InputError.self) {
            try run(
                "tessera: 1\nname: big\nkind: gpu-cluster\nnodes: 4096\ninter_node: {kind: switch, bandwidth: 50 GB/s}\n",
                "tessera: 1\nname: w\ncollective: {op: all-to-all, sizes: [1 GiB], algorithm: direct}\n")
        }
        let r = try run(
            "tessera: 1\nname: r\nkind: gpu-cluster\nnodes: 8\ninter_node: {kind: ring, bandwidth: 50 GB/s, latency: 500 ns}\n",
            "tessera: 1\nname: w\ncollective: {op: broadcast, sizes: [1 TB], algorithm: ring, chunk: 1 B}\n")
        // (n−2+C)(α + S/(Cβ)) with C = 10^12 chunks of 1 B: (6 + 10^12)(500 ns + 20 ps).
        let expected = (6 + 1e12) * (500e-9 + 20e-12)
        #expect(abs((r.collectives.first?.seconds ?? 0) - expected) / expected < 1e-9)
    }
}

@Suite struct ClusterSpecDefaultsTests {
    /// The design's sketch (no nodes_per_leaf): four nodes of eight NICs under each 64-port leaf.
    @Test func fatTreeLeavesDefaultToHalfA64PortSwitch() throws {
        let hw = try KindTable.hardwareLoader.parse(
            """
            tessera: 1
            name: dgx-h100-x16
            kind: gpu-cluster
            gpu: {preset: h100-sxm}
            nodes: 16
            gpus_per_node: 8
            intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}
            inter_node: {kind: fat-tree, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}
            """, file: "sketch.yaml")
        #expect(hw.cluster?.interNode?.nodesPerLeaf == 4)
        let small = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: s\nkind: gpu-cluster\nnodes: 2\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s}\n", file: "s.yaml")
        #expect(small.cluster?.interNode?.nodesPerLeaf == 2)
    }

    /// A three-level fat-tree: 8 nodes (one 50 GB/s NIC each), 2 per leaf, 2 leaves per pod. A
    /// direct all-to-all of S sends S/8 to every other node; each pod sends 4 × 4 × S/8 = 2S to
    /// the other pod. Non-blocking, the NICs bound it (7/8·S per NIC): 7S/(8·50 GB/s). At 2:1 on
    /// every tier, a pod's core link carries 2 × 50 / 2 = 50 GB/s and bounds it: 2S/(50 GB/s),
    /// 16/7 as long. A message between pods crosses five switches.
    @Test func threeLevelFatTreesCongestAtTheCore() throws {
        func run(_ over: String) throws -> Double {
            let hw = try KindTable.hardwareLoader.parse(
                "tessera: 1\nname: t\nkind: gpu-cluster\nnodes: 8\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s, latency: 1 us, hop_latency: 100 ns, nodes_per_leaf: 2, levels: 3, leaves_per_pod: 2, oversubscription: \"\(over)\"}\n",
                file: "t.yaml")
            let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-to-all, sizes: [1 GiB], algorithm: direct}\n", file: "w.yaml")
            let report = try Pipeline(hardware: hw, workload: wl).run().report
            return try #require(report.collectives.first).seconds
        }
        let S = Double(1 << 30)
        let free = try run("1:1"), tight = try run("2:1")
        #expect(abs(free - (7 * S / 8 / 50e9 + 1.5e-6)) / free < 1e-6, "\(free)")
        #expect(abs(tight - (2 * S / 50e9 + 1.5e-6)) / tight < 1e-6, "\(tight)")
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: t\nkind: gpu-cluster\nnodes: 8\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s, nodes_per_leaf: 2, levels: 3, leaves_per_pod: 2}\n", file: "t.yaml")
        let spec = try #require(hw.cluster)
        let topology = try #require(ClusterTopology(spec))
        var links: [Int] = []
        _ = topology.route(0, 7, into: &links)
        #expect(links.map { topology.describe($0).name } == ["node0.nic0.up", "leaf0.up", "pod0.up", "pod1.down", "leaf3.down", "node7.nic0.down"])
        _ = topology.route(0, 3, into: &links)
        #expect(links.map { topology.describe($0).name } == ["node0.nic0.up", "leaf0.up", "leaf1.down", "node3.nic0.down"])
        #expect(topology.linkCount == 8 * 2 + 4 * 2 + 2 * 2)
    }
}

@Suite struct CollectiveProtocolReportTests {
    /// Under `nccl_protocol: auto` every size's row names the protocol it ran with (JSON `protocol`,
    /// a CSV column, "ring with LL" in Markdown) and the notes describe the model; without it none does.
    @Test func rowsNameTheirProtocol() throws {
        let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("validation/nccl-tests/dgx-a100.yaml").path)
        let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [8 B, 1 GiB], algorithm: ring}\n", file: "w.yaml")
        let report = try Pipeline(hardware: hw, workload: wl).run().report
        #expect(report.collectives.map { $0.ncclProtocol } == ["LL", "Simple"])
        #expect(report.json().contains("\"protocol\": \"LL\""))
        #expect(report.collectivesCSV().hasPrefix("op,algorithm,ranks,bytes,seconds,algbw_gbps,busbw_gbps,protocol\n"))
        #expect(report.collectivesMarkdown().contains("| all-reduce | ring with LL |"))
        #expect(report.modelNotes.contains { $0.hasPrefix("collectives costed with NCCL's protocols (nccl_protocol: auto") })
        let plain = try busbw("configs/gpu/dgx-a100-x1.yaml", bytes: "8 B")
        #expect(plain.ncclProtocol == nil)
    }
}

@Suite struct CollectiveGraphTests {
    /// A microbenchmark's graph is elaborated from its plans: each size's steps in order, a ring's
    /// 2(n − 1) identical steps one operation "×14" carrying 14 · S bytes (n messages of S/n per
    /// step), a double binary tree its steps, chained one size after another.
    @Test func eachSizeIsItsSteps() throws {
        let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/gpu/dgx-h100-x1.yaml").path)
        let wl = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [1 MiB, 64 MiB], algorithm: ring}\n", file: "w.yaml")
        let graph = try Pipeline(hardware: hw, workload: wl).run().views.dataflowGraph()
        #expect(graph.operations.map(\.name) == ["all-reduce.ring 1048576 B.step0 ×14", "all-reduce.ring 67108864 B.step0 ×14"])
        let bytes = graph.operations.map { op -> UInt64 in if case .device(.collective(let c), _) = op.kind { return c.bytes } else { return 0 } }
        #expect(bytes == [14 << 20, 14 * (64 << 20)])
        #expect(graph.operations[1].dependencies == [OpID(0)])
        let tree = try WorkloadLoader.parse("tessera: 1\nname: w\ncollective: {op: all-reduce, sizes: [64 KiB], algorithm: double-binary-tree}\n", file: "w.yaml")
        let treeGraph = try Pipeline(hardware: hw, workload: tree).run().views.dataflowGraph()
        #expect(treeGraph.operations.count > 1)
        #expect(Set(treeGraph.operations.map { LayerBlocks.block(of: $0.name) }) == ["all-reduce.double-binary-tree 65536 B"])
    }
}
