import Foundation
import Testing
import TesseraCore

@testable import TesseraSpec

/// SCALE-Sim topology CSVs as layers: both formats, depthwise rows, repeated names, the ceiling
/// output size, `layers: {scalesim_csv: …}` in a workload, and a located error for every bad row.
@Suite struct ScaleSimTopologyTests {
    static func read(_ csv: String) -> ([LayerSpec], [Diagnostic]) {
        var bag = DiagnosticBag()
        let layers = ScaleSimTopology.layers(csv, file: "net.csv", bag: &bag)
        return (layers, bag.diagnostics)
    }

    @Test func convolutionRowsBecomeConvolutions() throws {
        let (layers, errors) = Self.read(
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                + "Conv1,224,224,7,7,3,64,2,\nConv2_1a,56,56,3,3,64,64,1,\n\nConv2_1a,56,56,3,3,64,64,1,\n")
        #expect(errors.isEmpty)
        #expect(layers.map(\.name) == ["Conv1", "Conv2_1a", "Conv2_1a#2"])
        // 224 − 7 is odd: SCALE-Sim's ⌈(224 − 7 + 2)/2⌉ = 110 outputs a side, as the GEMM it simulates.
        guard case .gemm(let g) = layers[0].op else { Issue.record("Conv1: \(layers[0].op)"); return }
        #expect(g.m == 110 * 110 && g.n == 64 && g.k == 7 * 7 * 3)
        guard case .conv2d(let c) = layers[1].op else { Issue.record("Conv2_1a: \(layers[1].op)"); return }
        #expect(c.outputH == 54 && c.channels == 64 && c.filters == 64 && c.padding == 0)
        #expect(layers[2].location?.line == 5 && layers[2].location?.file == "net.csv")
    }

    /// SCALE-Sim's own GEMM topologies end their lines with CR LF.
    @Test func windowsLineEndings() {
        let (layers, errors) = Self.read("Layer,M,N,K,\r\nQKT,1024,1024,64,\r\nfc,8,x,32,\r\n")
        #expect(layers.map(\.name) == ["QKT"])
        #expect(errors.first?.location?.line == 3 && errors.first?.location?.column == 6)
    }

    @Test func aConfigBecomesAnArrayFile() throws {
        let cfg = "[general]\r\nrun_name = tpu_ws\r\n[architecture_presets]\nArrayHeight: 128\nArrayWidth : 64\nIfmapSramSzkB: 512\nFilterSramSzkB: 256\nOfmapSramSzkB: 128\nIfmapOffset: 0\nDataflow : ws\nBandwidth : 16\n[run_presets]\nInterfaceBandwidth: USER\n"
        let yaml = try ScaleSimConfig.hardwareYAML(cfg, file: "tpu.cfg")
        for piece in ["name: tpu_ws", "kind: array", "rows: 128, cols: 64, dataflow: weight-stationary", "size: 512 KiB", "role: filter", "bandwidth: 16 GB/s", "Ignored (no counterpart): ifmapoffset"] {
            #expect(yaml.contains(piece), "\(piece)")
        }
        #expect(try ScaleSimConfig.hardwareYAML(cfg.replacingOccurrences(of: "USER", with: "CALC"), file: "tpu.cfg").contains("bandwidth: unlimited"))
        #expect {
            _ = try ScaleSimConfig.hardwareYAML(cfg.replacingOccurrences(of: "ArrayWidth : 64", with: "ArrayWidth : -1"), file: "tpu.cfg")
        } throws: { error in
            (error as? InputError)?.description.contains("tpu.cfg:5:1: error: 'ArrayWidth' must be a whole number") == true
        }
    }

    @Test func gemmRowsAndDepthwiseRows() {
        let (gemms, e1) = Self.read("Layer, M, N, K,\nQKT,1024,1024,64,\nFC, 8, 16, 32,\n")
        #expect(e1.isEmpty)
        #expect(gemms.map(\.op) == [.gemm(GEMM(m: 1024, n: 1024, k: 64)), .gemm(GEMM(m: 8, n: 16, k: 32))])
        // A "DP" row is one single-channel layer per channel, as SCALE-Sim splits it.
        let (dw, e2) = Self.read("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nConv_DP1,10,10,3,3,4,1,1,\n")
        #expect(e2.isEmpty)
        #expect(dw.map(\.name) == (0..<4).map { "Conv_DP1Channel_\($0)" })
    }

    @Test(arguments: [
        ("Layer, M, N, K,\nfc, 8, x, 32,\n", 2, 8, "'N' must be a whole number"),
        ("Layer, M, N, K,\nfc, 8, 16,\n", 2, 1, "has 4 fields"),
        ("Layer, M, N, K,\nfc, 0, 16, 32,\n", 2, 5, "'M' must be a whole number"),
        ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc,4,4,5,5,3,8,1,\n", 2, 1, "filter is larger"),
        ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc,8,8,3,3,3,8,1,2,\n", 2, 17, "different vertical and horizontal"),
        ("a,b,c\n1,2,3\n", 1, 1, "not a SCALE-Sim topology header"),
        ("Layer, M, N, K,\n", 1, 1, "has no layers"),
        ("", 1, 1, "is empty"),
    ])
    func badRowsAreLocated(_ csv: String, _ line: Int, _ column: Int, _ message: String) throws {
        let (_, errors) = Self.read(csv)
        let e = try #require(errors.first, "no error for \(csv)")
        #expect(e.location?.file == "net.csv" && e.location?.line == line && e.location?.column == column, "\(e)")
        #expect(e.description.contains(message), "\(e)")
    }

    @Test func aWorkloadReadsItsLayersFromACSVBesideIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-scalesim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "Layer, M, N, K,\nfc1, 16, 64, 64,\nfc2, 16, 32, 64,\n".write(to: dir.appendingPathComponent("mlp.csv"), atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("w.yaml").path
        let w = try WorkloadLoader.parse("tessera: 1\nname: w\nlayers: {scalesim_csv: mlp.csv}\n", file: file)
        #expect(w.layers.map(\.name) == ["fc1", "fc2"])
        #expect {
            _ = try WorkloadLoader.parse("tessera: 1\nname: w\nlayers: {scalesim_csv: missing.csv}\n", file: file)
        } throws: { error in
            let text = (error as? InputError)?.description ?? ""
            return text.contains("w.yaml:3:") && text.contains("cannot read the SCALE-Sim topology 'missing.csv'")
        }
        #expect(throws: InputError.self) { try WorkloadLoader.parse("tessera: 1\nname: w\nlayers: {scalesim_cvs: mlp.csv}\n", file: file) }
    }
}
