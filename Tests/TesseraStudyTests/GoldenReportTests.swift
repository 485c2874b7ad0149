import Foundation
import Testing

@testable import TesseraOutput
@testable import TesseraStudy
import TesseraFamilies
import TesseraTestSupport


/// End-to-end reports compared byte for byte with the files under Golden/. They change only on
/// purpose: `make golden` (TESSERA_RECORD_GOLDEN=1) re-records them, and the run that records
/// fails, so that a recording can never pass for a check.
@Suite struct GoldenReportTests {
    static let cases: [(hardware: String, workload: String)] = [
        ("configs/array/scalesim-32x32-os.yaml", "traces/small-cnn.yaml"),
        ("configs/array/scalesim-32x32-ws.yaml", "traces/small-cnn.yaml"),
        ("configs/array/tpu-128x128-is.yaml", "traces/bert-base-s128-b1.yaml"),
        ("configs/array/scalesim-32x32-os.yaml", "traces/resnet50-b1.yaml"),
        ("configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml"),
    ]

    @Test(arguments: 0..<cases.count)
    func reportMatchesGolden(index: Int) throws {
        let c = Self.cases[index]
        let out = try Pipeline.load(
            hardwarePath: packageRoot.appendingPathComponent(c.hardware).path, workloadPath: packageRoot.appendingPathComponent(c.workload).path
        ).run()
        let name = "\(out.report.workload)--\(out.report.hardware)"
        let golden = packageRoot.appendingPathComponent("Tests/TesseraStudyTests/Golden")
        for (ext, text) in [("json", out.report.json()), ("csv", out.report.csv()), ("md", out.report.markdown())] {
            let file = golden.appendingPathComponent("\(name).\(ext)")
            if ProcessInfo.processInfo.environment["TESSERA_RECORD_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
                let before = try? String(contentsOf: file, encoding: .utf8)
                try text.write(to: file, atomically: true, encoding: .utf8)
                Issue.record("re-recorded \(file.lastPathComponent) (\(before == text ? "unchanged" : "changed")); a recording run always fails, run the tests again to check")
                continue
            }
            let expected = try String(contentsOf: file, encoding: .utf8)
            #expect(text == expected, "\(file.lastPathComponent) differs from its golden file; run `make golden` if the change is intended")
        }
    }

    @Test func repeatedRunsGiveByteIdenticalJSON() throws {
        let hw = packageRoot.appendingPathComponent("configs/array/scalesim-32x32-ws.yaml").path
        let wl = packageRoot.appendingPathComponent("traces/mobilenetv2-b1.yaml").path
        let a = try Pipeline.load(hardwarePath: hw, workloadPath: wl).run().report.json()
        let b = try Pipeline.load(hardwarePath: hw, workloadPath: wl).run().report.json()
        #expect(a == b)
    }
}

@Test func jsonReportCarriesTheContractFields() throws {
    let out = try Pipeline.load(
        hardwarePath: packageRoot.appendingPathComponent("configs/array/ideal-32x32-os.yaml").path,
        workloadPath: packageRoot.appendingPathComponent("traces/small-cnn.yaml").path
    ).run()
    let object = try JSONSerialization.jsonObject(with: Data(out.report.json().utf8)) as? [String: Any]
    let top = try #require(object)
    for key in ["tessera", "hardware", "workload", "family", "clock_hz", "total_cycles", "seconds", "energy_j", "layers", "units"] {
        #expect(top[key] != nil, "missing \(key)")
    }
    #expect(top["tessera"] as? Int == 2)
    #expect(top["family"] as? String == "array")
    let layers = try #require(top["layers"] as? [[String: Any]])
    #expect(layers.count == 7)
    for l in layers {
        for key in [
            "name", "op", "compute_cycles", "stall_cycles", "total_cycles", "macs", "utilization", "mapping_efficiency", "dram_read_bytes",
            "dram_write_bytes", "sram_read_bytes", "sram_write_bytes",
        ] {
            #expect(l[key] != nil, "layer missing \(key)")
        }
    }
    let units = try #require(top["units"] as? [[String: Any]])
    #expect(units.contains { $0["kind"] as? String == "systolic-array" })
    for u in units {
        for key in ["name", "kind", "busy_s", "busy_cycles", "utilization"] { #expect(u[key] != nil) }
    }
}

@Test func jsonEscapesAndNumbers() {
    #expect(JSONValue.string("a\"b\\c\n").render() == "\"a\\\"b\\\\c\\n\"")
    #expect(JSONValue.double(2).render() == "2")
    #expect(JSONValue.double(0.5).render() == "0.5")
    #expect(JSONValue.double(.nan).render() == "null")
}

@Test func graphvizLinksInProcess() {
    let v = Graphviz.version()
    #expect(v.first?.isNumber == true, "libgvc version: \(v)")
}
