import Foundation
import Testing
import TesseraCore
@testable import TesseraOutput

@Suite struct HTMLReportTests {
    /// A small report in the shape `Report.json()` writes, with every family section the page reads.
    static let report = JSONValue.object([
        ("tessera", .int(2)), ("hardware", .string("hw<1>")), ("workload", .string("wl & co")), ("family", .string("array")),
        ("clock_hz", .double(1e9)), ("total_cycles", .uint(1_234_567)), ("seconds", .double(0.001234567)), ("utilization", .double(0.5)),
        ("energy_j", .double(2.0)), ("average_power_w", .double(1.62)), ("peak_power_w", .double(3.0)),
        ("energy", .object([
            ("dynamic_j", .double(1.5)), ("static_j", .double(0.5)),
            ("by_component", .object([("dram", .double(1.5)), ("array", .double(0.5))])),
            ("by_action", .object([("dram.read", .double(2.0))])), ("power_window_s", .double(1e-6)),
            ("power_over_time", .object([("window_s", .double(1e-4)), ("watts", .array([.double(1), .double(3), .double(2)]))])),
        ])),
        ("layers", .array([
            .object([("name", .string("conv1")), ("op", .string("conv2d")), ("total_cycles", .uint(10)), ("utilization", .double(0.25))]),
            .object([("name", .string("<script>alert(1)</script>")), ("op", .string("add")), ("total_cycles", .uint(30))]),
        ])),
        ("serving", .object([
            ("model", .string("m")), ("mode", .string("colocated")), ("requests", .int(3)), ("gpus", .int(2)),
            ("ttft", .object([("p50_s", .double(0.01)), ("count", .int(3)), ("quantiles_s", .array((0...100).map { .double(Double($0) * 1e-4) }))])),
            ("slo", .object([("ttft_s", .double(0.2)), ("tpot_s", .double(0.005)), ("attainment", .double(0.5)), ("target_attainment", .double(0.9))])),
        ])),
        ("phase", .string("training")), ("scheme", .string("bdwp")), ("pattern", .string("2:8")), ("speedup_over_dense", .double(1.5)),
        ("dense_total_cycles", .uint(3_000_000)), ("optimizations", .object([("interleave", .bool(true))])),
        ("phases", .object([("ff", .object([("operations", .int(4)), ("macs", .uint(100))]))])),
        ("units", .array([.object([("name", .string("array")), ("kind", .string("systolic-array")), ("busy_s", .double(1e-3)), ("utilization", .double(0.8))])])),
        ("model_notes", .array([.string("a note")])),
    ])

    @Test func thePageHasEverySectionAndLoadsNothing() {
        let page = HTMLReport(report: Self.report, pictures: [.init(title: "Hardware", svg: Array("<svg/>".utf8))], generator: "tessera test").page()
        for marker in ["id=\"summary\"", "id=\"pictures\"", "id=\"power\"", "id=\"energy\"", "id=\"latency\"", "id=\"layers\"", "id=\"units\"", "id=\"model\"", "data-ready"] {
            #expect(page.contains(marker), "missing \(marker)")
        }
        #expect(page.contains("Content-Security-Policy"))
        #expect(!page.contains("http://") && !page.contains("https://"), "the page must not refer outside itself")
        #expect(!page.contains("url(") && !page.contains("@import"))
        #expect(page.contains("src=\"data:image/svg+xml;base64,\(Data("<svg/>".utf8).base64EncodedString())\""))
        // A missed SLO target is said; a training step's scheme, speedup and passes are there.
        #expect(page.contains("MISSED"))
        #expect(page.contains("training step, bdwp 2:8; interleave on") && page.contains("1.5× (dense: 3") && page.contains("id=\"passes\""))
    }

    @Test func everythingFromTheReportIsEscaped() {
        let page = HTMLReport(report: Self.report, generator: "g").page()
        #expect(!page.contains("<script>alert(1)</script>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("wl &amp; co on hw&lt;1&gt;"))
        // Exactly one script: the page's own.
        #expect(page.components(separatedBy: "<script>").count == 2)
    }

    @Test func sameReportSameBytes() {
        let a = HTMLReport(report: Self.report, generator: "g").page(), b = HTMLReport(report: Self.report, generator: "g").page()
        #expect(a == b)
    }

    @Test func numbersSortAsNumbers() {
        let page = HTMLReport(report: Self.report, generator: "g").page()
        #expect(page.contains("data-v=\"10\"") && page.contains("data-v=\"30\""))
    }

    @Test func picturesNoteWithoutPictures() {
        let page = HTMLReport(report: Self.report, picturesNote: "pictures need the run", generator: "g").page()
        #expect(page.contains("pictures need the run"))
    }

    @Test func aMinimalReportStillMakesAPage() {
        let page = HTMLReport(report: .object([("tessera", .int(2))]), generator: "g").page()
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
    }
}

@Suite struct SVGChartTests {
    @Test func ticksAreRound() {
        #expect(SVGChart.tickStep(max: 10.177) == 2)
        #expect(SVGChart.tickStep(max: 0.0037) == 0.001)
        #expect(SVGChart.tickStep(max: 7.56) == 2)
        #expect(SVGChart.tickStep(max: 250) == 50)
        #expect(SVGChart.ticks(max: 10.177) == [0, 2, 4, 6, 8, 10, 12])
        #expect(SVGChart.ticks(max: 1).map { SVGChart.label($0, step: 0.2) } == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        for m in [3.3e-5, 0.0012, 0.9, 1, 17, 4096, 1e12] {
            let t = SVGChart.ticks(max: m)
            #expect(t.first == 0 && t.last! >= m * (1 - 1e-12) && t.count <= 12, "\(m): \(t)")
            // Every label reads as a round value, not binary noise, and no two are the same.
            let labels = t.map { SVGChart.label($0, step: SVGChart.tickStep(max: m)) }
            #expect(Set(labels).count == labels.count && labels.allSatisfy { $0.count <= 14 && !$0.contains("e") }, "\(m): \(labels)")
        }
        #expect(SVGChart.tickStep(max: 0) == 1 && SVGChart.tickStep(max: .nan) == 1)
    }

    @Test func timeUnits() {
        #expect(SVGChart.timeUnit(3.2).name == "s")
        #expect(SVGChart.timeUnit(0.0029).name == "ms")
        #expect(SVGChart.timeUnit(2e-5).name == "µs")
        #expect(SVGChart.timeUnit(5e-10).name == "ns")
    }

    @Test func powerChartDrawsEveryWindowAndTheBudget() {
        let svg = SVGChart.power(PowerSeries(windowSeconds: 1e-3, watts: [1, 2, 3]), budget: 2.5)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.contains("budget 2.5 W"))
        // One step per window: a move and a line for the first, two lines for each other.
        let path = svg.components(separatedBy: "class=\"series\"")[0].components(separatedBy: "<path d=\"").last ?? ""
        #expect(path.filter { $0 == "M" }.count == 1 && path.filter { $0 == "L" }.count == 5)
    }
}

@Suite struct PowerSeriesTests {
    @Test func mergingKeepsEnergy() {
        let watts = (0..<1000).map { Double($0 % 7) + 0.5 }
        let s = PowerSeries(windowSeconds: 1e-6, watts: watts)
        #expect(s.watts.count <= PowerSeries.maxPoints)
        #expect(s.windowSeconds == 4e-6)
        // The full windows keep Σ P·Δt; the last, partial group averages over the windows it has.
        let full = watts.count / 4 * 4
        let before = watts[0..<full].reduce(0, +) * 1e-6
        let after = s.watts.prefix(full / 4).reduce(0, +) * s.windowSeconds
        #expect(abs(before - after) <= 1e-12 * before)
    }

    @Test func shortSeriesAreKept() {
        let s = PowerSeries(windowSeconds: 2e-3, watts: [1, 2])
        #expect(s.watts == [1, 2] && s.windowSeconds == 2e-3)
        #expect(PowerSeries(windowSeconds: 1, watts: []).watts.isEmpty)
    }
}
