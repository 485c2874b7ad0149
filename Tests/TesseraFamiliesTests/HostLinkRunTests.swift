import Foundation
import Testing
import TesseraOutput
import TesseraStudy
import TesseraTestSupport

/// An Edge TPU behind USB 3.0 (`configs/edge/coral-usb.yaml`) on a model too large for its 8 MB
/// of on-chip memory: the streamed weights keep the link busy for bytes / bandwidth, the run takes
/// at least that long, and each streamed byte costs `link.byte`. A model that fits runs as on the
/// Edge TPU preset without a link.
@Suite struct HostLinkRunTests {
    static func run(_ hw: String, _ wl: String) throws -> Report {
        try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent(hw).path, workloadPath: packageRoot.appendingPathComponent(wl).path).run().report
    }

    @Test func streamedWeightsTakeTheirTimeOnTheLink() throws {
        let r = try Self.run("configs/edge/coral-usb.yaml", "validation/coral-edgetpu/resnet-50-299.yaml")
        let h = try #require(r.hostLink)
        #expect(h.residentBytes <= 8_000_000 && h.residentBytes + h.streamedBytes == 25_502_912)
        let floor = Double(h.streamedBytes) / 400e6
        #expect(h.busySeconds >= floor && h.busySeconds < floor * 1.01)
        #expect(r.seconds >= h.busySeconds)
        let link = try #require(r.energy.byAction.first { $0.action == "link.byte" })
        #expect(abs(link.joules - Double(h.streamedBytes) * 323.75e-12) < 1e-12)
        #expect(r.energy.byComponent.contains { $0.name == "usb" })
    }

    @Test func aModelThatFitsRunsAsWithoutTheLink() throws {
        let linked = try Self.run("configs/edge/coral-usb.yaml", "traces/mobilenetv2-b1.yaml")
        let plain = try Self.run("configs/edge/edge-tpu.yaml", "traces/mobilenetv2-b1.yaml")
        #expect(linked.hostLink?.streamedBytes == 0)
        #expect(linked.totalCycles == plain.totalCycles)
        #expect(linked.energy.totalJoules == plain.energy.totalJoules)
    }
}
