import Foundation
import Testing
import TesseraCore
import TesseraSim

@testable import TesseraOutput

/// The one trace writer and the one schedule renderer on a hand-made timeline: processes and
/// tracks, merging of close spans, shading by busy share, the legend of what was drawn, the window.
@Suite struct TimelineRenderTests {
    /// Two processes: "gpu" with a compute row (100 spans of 1 µs, 1 µs apart, then one long span)
    /// and a thin link row; a power counter.
    static func timeline() -> Timeline {
        var tl = Timeline(title: "t", comment: "A test.", end: 1_000_000_000)
        let gpu = tl.process("gpu")
        let compute = tl.row(process: gpu, lane: "gpu", title: "compute")
        let links = tl.process("links")
        let link = tl.row(process: links, lane: "links", title: "l0", style: .thin)
        for k in 0..<100 {
            let s = Picoseconds(k) * 2_000_000
            tl.spans.append(Timeline.Span(row: compute, start: s, end: s + 1_000_000, name: "f\(k)", category: "forward", args: [("k", .int(Int64(k)))]))
        }
        tl.spans.append(Timeline.Span(row: compute, start: 500_000_000, end: 900_000_000, name: "big", category: "backward"))
        tl.spans.append(Timeline.Span(row: link, start: 0, end: 200_000_000, name: "l0", category: "link"))
        tl.legend = [("forward", "forward"), ("backward", "backward"), ("link", "link busy"), ("dp", "never drawn")]
        tl.counters = [Timeline.Counter(name: "power", unit: "watts", samples: [(0, 700), (1_000_000_000, 0)])]
        return tl
    }

    @Test func theTraceHasAProcessPerGroupATrackPerRowAndTheCounters() throws {
        let text = ChromeTrace(Self.timeline()).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        let x = events.filter { $0["ph"] as? String == "X" }
        #expect(x.count == 102)
        #expect(Set(x.map { $0["pid"] as! Int }) == [1, 2])
        #expect(events.filter { $0["ph"] as? String == "C" }.allSatisfy { $0["pid"] as? Int == 3 })
        let first = try #require(x.first { $0["name"] as? String == "f1" })
        #expect((first["ts"] as! NSNumber).doubleValue == 2 && (first["dur"] as! NSNumber).doubleValue == 1)
        #expect((first["args"] as? [String: Any])?["k"] as? Int == 1)
    }

    /// 1 ms over 1600 points: half a point is 0.3 µs, so the 1 µs gaps keep the forwards apart;
    /// with a budget of 10 boxes they merge into one box busy half its length, drawn paler.
    @Test func closeSpansMergeAndMergedBoxesAreShadedByTheirBusyShare() throws {
        let whole = try ScheduleDOT(Self.timeline()).build()
        #expect(whole.notes.first == "102 spans drawn as 102 boxes and 0 gaps")
        let merged = try ScheduleDOT(Self.timeline(), options: .init(maxBoxes: 10)).build()
        #expect(merged.notes.contains { $0.contains("merged into 3") })
        #expect(merged.text.contains("f0 … f99 (100 spans)"))
        #expect(merged.text.contains("busy 50"))
        #expect(merged.text.contains("fillcolor=\"\(ScheduleDOT.lighten("#7cc47a", keeping: 0.2 + 0.8 * 100.0 / 199.0))\""))
        // The legend lists what was drawn, in order, and nothing else.
        #expect(merged.text.contains("link busy") && !merged.text.contains("never drawn"))
    }

    @Test func theWindowClipsAndIsChecked() throws {
        let window = try ScheduleDOT(Self.timeline(), options: .init(from: 0, to: 100_000_000)).build()
        #expect(window.text.contains("window: 0 s to 100 µs"))
        #expect(!window.text.contains("big"))
        #expect(throws: InputError.self) { try ScheduleDOT(Self.timeline(), options: .init(from: 5, to: 5)).build() }
        #expect(throws: InputError.self) { try ScheduleDOT(Self.timeline(), options: .init(from: 2_000_000_000)).build() }
    }

    @Test func lightenMixesWithWhite() {
        #expect(ScheduleDOT.lighten("#000000", keeping: 0.5) == "#808080")
        #expect(ScheduleDOT.lighten("#7cc47a", keeping: 1) == "#7cc47a")
        #expect(ScheduleDOT.lighten("#7cc47a", keeping: 0) == "#ffffff")
        #expect(ScheduleDOT.lighten("oops", keeping: 0.5) == "oops")
    }
}
