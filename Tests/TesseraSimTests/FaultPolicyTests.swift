import Testing
import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// Faults as a policy: GPU slowdowns by time, and the network of each epoch split at the times
/// link and NIC faults start.
@Suite struct FaultPolicyTests {

    static func faults(_ yaml: String) throws -> [FaultSpec] {
        let text = "tessera: 1\nname: t\nphase: training\nprecision: bf16\nbatch: 8\ntransformer: {layers: 4, hidden: 512, heads: 8, ffn: 2048, seq_len: 256, vocab: 1000}\nparallelism: {tp: 2, pp: 2, dp: 4}\nfaults:\n" + yaml
        return try #require(try WorkloadLoader.parse(text, file: "w.yaml").llm).faults
    }

    @Test func noFaultsIsTheHealthyCluster() throws {
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 2, gpusPerNode: 8))
        let p = FaultPolicy([], on: topology)
        #expect(!p.changesNetwork)
        #expect(p.topologies.count == 1)
        #expect(p.epoch(at: 1e9) == 0)
        #expect(p.slowdown(gpu: 3, at: 5) == 1)
        #expect(!p.isFaulty(gpu: 3))
    }

    @Test func gpuSlowdownsHoldFromTheirStartAndTheLargestWins() throws {
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 2, gpusPerNode: 8))
        let p = FaultPolicy(try Self.faults("  - {gpu: 5, slowdown: 1.5}\n  - {gpu: 5, slowdown: 3, at: 2 ms}\n  - {gpu: 6, cut: true, at: 1 ms}\n"), on: topology)
        #expect(!p.changesNetwork)
        #expect(p.isFaulty(gpu: 5) && p.isFaulty(gpu: 6) && !p.isFaulty(gpu: 4))
        #expect(p.slowdown(gpu: 5, at: 0) == 1.5)
        #expect(p.slowdown(gpu: 5, at: 0.002) == 3)
        #expect(p.slowdown(gpu: 6, at: 0.000999) == 1)
        #expect(p.slowdown(gpu: 6, at: 0.001).isInfinite)
    }

    @Test func linkFaultsSplitTheRunIntoEpochs() throws {
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 2, gpusPerNode: 8))
        let p = FaultPolicy(try Self.faults("  - {link: node1.nic2.up, slowdown: 4, at: 1 ms}\n  - {nic: node0.nic1, slowdown: 2, at: 1 ms}\n  - {link: node1.nic3.up, slowdown: 2, at: 3 ms}\n"), on: topology)
        #expect(p.changesNetwork)
        #expect(p.epochStarts == [0.001, 0.003])
        #expect(p.topologies.count == 3)
        #expect(p.epoch(at: 0) == 0 && p.epoch(at: 0.001) == 1 && p.epoch(at: 0.0029) == 1 && p.epoch(at: 0.5) == 2)
        let slow = try #require(topology.link(named: "node1.nic2.up")), later = try #require(topology.link(named: "node1.nic3.up"))
        #expect(p.network(at: 0).capacity(slow) == topology.capacity(slow))
        #expect(abs(p.network(at: 0.001).capacity(slow) - topology.capacity(slow) / 4) <= 1e-9 * topology.capacity(slow))
        #expect(p.network(at: 0.001).capacity(later) == topology.capacity(later))
        #expect(abs(p.network(at: 0.003).capacity(later) - topology.capacity(later) / 2) <= 1e-9 * topology.capacity(later))
        #expect(p.slowdown(gpu: 0, at: 1) == 1)
    }
}
