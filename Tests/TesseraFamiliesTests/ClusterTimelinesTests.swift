import Foundation
import Testing
import TesseraSim
import TesseraStudy
import TesseraTestSupport

@testable import TesseraFamilies

@Suite struct ClusterTimelinesTests {
    @Test func busySpansMergeUsesAndKeepTheirShare() {
        let spans = Timeline.busySpans([(4, 6, 1), (0, 2, 0.5), (1, 3, 1.5), (6, 8, 4)])
        // [0, 3] holds two uses (2 busy seconds in 3); [4, 8] two touching ones (5 in 4, at most 1).
        #expect(spans.count == 2)
        #expect(spans[0].start == 0 && spans[0].end == 3 && abs(spans[0].share - 2.0 / 3) < 1e-12)
        #expect(spans[1].start == 4 && spans[1].end == 8 && spans[1].share == 1)
        #expect(Timeline.busySpans([]).isEmpty)
        #expect(Timeline.busySpans([(1, 1, 0)]).map { $0.share } == [0])
    }

    @Test func bands() {
        #expect([0, 0.19, 0.2, 0.5, 0.79, 0.8, 1].map { Timeline.linkBand($0) } == [0, 0, 1, 2, 3, 4, 4])
        #expect(Timeline.linkLegend.map { $0.category } == (0...4).map { "link.\($0)" })
    }

    /// On a real step, each link lane's spans carry the link's busy time: Σ share × length over its
    /// spans equals its bytes / capacity over the step (no span saturates on this run).
    @Test func linkShadingAccountsForTheLinksTraffic() throws {
        let p = try Pipeline.load(
            hardwarePath: packageRoot.appendingPathComponent("configs/gpu/dgx-h100-x1.yaml").path,
            workloadPath: packageRoot.appendingPathComponent("traces/llama3-8b-train-8.yaml").path)
        let out = try p.run()
        let tl = try out.views.timeline()
        let links = tl.spans.filter { $0.category.hasPrefix("link.") }
        #expect(!links.isEmpty)
        var busyByLink: [String: Double] = [:]
        var utilization: [String: Double] = [:]
        for s in links {
            var share = 0.0, util = 0.0
            for (k, v) in s.args {
                if k == "bandwidth_share", case .double(let x) = v { share = x }
                if k == "utilization_in_step", case .double(let x) = v { util = x }
            }
            #expect(share >= 0 && share <= 1)
            #expect(s.category == "link.\(Timeline.linkBand(share))")
            busyByLink[s.name, default: 0] += share * Double(s.end - s.start) / 1e12
            utilization[s.name] = util
        }
        let step = out.report.seconds
        for (name, busy) in busyByLink {
            #expect(abs(busy / step - utilization[name]!) < 1e-6, "\(name): \(busy / step) vs \(utilization[name]!)")
        }
    }
}
