import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec
import Testing

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What an SVG holds, read with a real XML parser: the `<g class="node">` groups and every text.
private final class SVGSummary: NSObject, XMLParserDelegate {
    var nodes = 0
    var texts: [String] = []
    /// The `<title>` of each node group: the node's DOT id.
    var nodeIDs: [String] = []
    private var inText = false
    private var inNodeTitle = false
    private var expectNodeTitle = false
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "g", attributes["class"] == "node" {
            nodes += 1
            expectNodeTitle = true
        }
        if name == "text" || (name == "title" && expectNodeTitle) {
            inNodeTitle = name == "title"
            expectNodeTitle = false
            inText = true
            current = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || (name == "title" && inNodeTitle) {
            if inNodeTitle { nodeIDs.append(current) } else { texts.append(current) }
            inText = false
            inNodeTitle = false
        }
    }

    /// Parses SVG bytes; fails the test if they are not well-formed XML.
    static func parse(_ bytes: [UInt8]) throws -> SVGSummary {
        let summary = SVGSummary()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = summary
        let ok = parser.parse()
        try #require(ok, "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        return summary
    }
}

private func pipeline(_ hardware: String, _ workload: String) throws -> Pipeline.Output {
    try Pipeline.load(
        hardwarePath: packageRoot.appendingPathComponent(hardware).path, workloadPath: packageRoot.appendingPathComponent(workload).path
    ).run()
}

private let defaultHardware = "configs/array/scalesim-32x32-os.yaml"
private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

@Suite struct RenderTests {
    // MARK: Graphviz in-process

    @Test func graphvizRendersEveryFormat() throws {
        let dot = "digraph g { a -> b }"
        let svg = try Graphviz.render(dot: dot, format: "svg", engine: "dot")
        #expect(try SVGSummary.parse(svg).nodes == 2)
        #expect(Array(try Graphviz.render(dot: dot, format: "png", engine: "neato").prefix(8)) == pngSignature)
        #expect(String(decoding: try Graphviz.render(dot: dot, format: "pdf").prefix(4), as: UTF8.self) == "%PDF")
        #expect(String(decoding: try Graphviz.render(dot: dot, format: "dot"), as: UTF8.self).contains("pos="))
    }

    @Test func graphvizRejectsUnknownFormatsAndEngines() {
        #expect(throws: GraphvizError.self) { try Graphviz.render(dot: "digraph { a }", format: "gif") }
        #expect(throws: GraphvizError.self) { try Graphviz.render(dot: "digraph { a }", format: "svg", engine: "sfdp2") }
    }

    @Test func graphvizErrorsAreThrownNotPrintedOrFatal() throws {
        do {
            _ = try Graphviz.render(dot: "digraph { a -> }", format: "svg")
            Issue.record("a DOT syntax error should throw")
        } catch {
            #expect(error.messages.joined().contains("syntax error"), "\(error)")
        }
        // The library is still usable after an error.
        #expect(try SVGSummary.parse(Graphviz.render(dot: "digraph { x -> y -> z }", format: "svg")).nodes == 3)
    }

    // MARK: Hardware

    @Test func hardwarePictureHasEveryUnit() throws {
        let spec = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent(defaultHardware).path)
        let doc = HardwareDOT(HardwareModel(spec)).build()
        let svg = try SVGSummary.parse(doc.render(format: "svg"))
        #expect(svg.nodes == 5)
        for unit in ["array", "ifmap_sram", "filter_sram", "ofmap_sram", "dram"] {
            #expect(svg.texts.contains(unit), "no node for \(unit)")
        }
        #expect(svg.texts.contains("systolic array 32×32 · 1,024 PEs"))
        #expect(svg.texts.contains("25.6 GB/s"))
        #expect(Array(try doc.render(format: "png").prefix(8)) == pngSignature)
        #expect(String(decoding: try doc.render(format: "pdf").prefix(4), as: UTF8.self) == "%PDF")
    }

    // MARK: Dataflow graph

    @Test func graphPictureHasEveryOperation() throws {
        let out = try pipeline(defaultHardware, "traces/small-cnn.yaml")
        let doc = try GraphDOT(out.graph!, title: "small-cnn").build()
        #expect(doc.notes.isEmpty)
        let svg = try SVGSummary.parse(doc.render(format: "svg"))
        for op in out.graph!.operations {
            #expect(svg.texts.contains(op.name), "no node for \(op.name)")
        }
        #expect(svg.texts.contains("conv2d · 2048×16×27"))
        #expect(svg.nodes >= out.graph!.operations.count)
        #expect(Array(try doc.render(format: "png").prefix(8)) == pngSignature)
        #expect(String(decoding: try doc.render(format: "pdf").prefix(4), as: UTF8.self) == "%PDF")
    }

    @Test func resnet50GraphHasClustersPerBlockAndRendersQuickly() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        let clock = ContinuousClock()
        let start = clock.now
        let doc = try GraphDOT(out.graph!, title: "resnet50-b1").build()
        let svgBytes = try doc.render(format: "svg")
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(5), "ResNet-50 graph took \(elapsed)")
        let svg = try SVGSummary.parse(svgBytes)
        #expect(svg.texts.contains("layer1.0.conv1"))
        #expect(svg.texts.contains("layer4.2.add"))
        #expect(doc.text.contains("subgraph \"cluster_"))
        #expect(svg.texts.contains("layer3.5"), "a cluster per layer block")
    }

    @Test func graphAutoCollapsesAboveTheThreshold() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        // ResNet-50 has 72 operations: under the default threshold of 200 it is drawn whole …
        #expect(try GraphDOT(out.graph!).build().notes.isEmpty)
        // … and collapses to one node per block (conv1, maxpool, 16 blocks, avgpool, fc) above it.
        let doc = try GraphDOT(out.graph!, options: .init(autoCollapseAbove: 50)).build()
        #expect(doc.notes.count == 1)
        #expect(doc.notes[0].contains("72 operations"))
        let svg = try SVGSummary.parse(doc.render(format: "svg"))
        #expect(svg.texts.contains("layer2.3"))
        #expect(!svg.texts.contains("layer2.3.conv1"))
        let blockNodes = doc.text.split(separator: "\n").filter { $0.hasPrefix("  \"g") && !$0.contains("->") }
        #expect(blockNodes.count == 20)
    }

    @Test func graphOfMoreThan200OperationsCollapsesByDefault() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var yaml = "tessera: 1\nname: deep\nbatch: 1\nprecision: int8\nlayers:\n"
        for i in 0..<210 {
            yaml += "  - {name: stage\(i / 30).block\(i / 3).op\(i % 3), op: gemm, m: 16, n: 16, k: 16}\n"
        }
        let path = directory.appendingPathComponent("deep.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let out = try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent(defaultHardware).path, workloadPath: path).run()
        #expect(out.graph!.operations.count == 210)
        let doc = try GraphDOT(out.graph!).build()
        #expect(doc.notes.first?.contains("more than 200") == true)
        let ids = try SVGSummary.parse(doc.render(format: "svg")).nodeIDs
        #expect(ids.filter { $0.hasPrefix("g") }.count == 70, "one node per block of three")
        // Asked for explicitly, every operation is drawn.
        #expect(try GraphDOT(out.graph!, options: .init(collapse: .none)).build().notes.isEmpty)
    }

    @Test func layerRangesByIndexAndName() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        let layers = out.graph!.layers
        #expect(try GraphDOT.layerRange("3..10", layers: layers) == 3...10)
        #expect(try GraphDOT.layerRange("conv1..layer1.2.add", layers: layers) == 0...14)
        #expect(try GraphDOT.layerRange("layer2.0.conv1", layers: layers) == 15...15)
        #expect(try GraphDOT.layerRange("..2", layers: layers) == 0...2)
        #expect(try GraphDOT.layerRange("fc", layers: layers) == 71...71)
        #expect(try GraphDOT.layerRange("70..", layers: layers) == 70...71)
        #expect(throws: InputError.self) { try GraphDOT.layerRange("conv1..layer9.0.add", layers: layers) }
        #expect(throws: InputError.self) { try GraphDOT.layerRange("10..3", layers: layers) }
        #expect(throws: InputError.self) { try GraphDOT.layerRange("0..72", layers: layers) }

        let doc = try GraphDOT(out.graph!, options: .init(layers: "conv1..layer1.2.add")).build()
        let svg = try SVGSummary.parse(doc.render(format: "svg"))
        #expect(svg.texts.contains("layer1.2.add"))
        #expect(!svg.texts.contains("layer2.0.conv1"))
        #expect(svg.texts.contains("⋯ to layer2.0.conv1"))
    }

    // MARK: Schedule

    @Test func schedulePictureHasLanesAndBoxes() throws {
        let out = try pipeline(defaultHardware, "traces/small-cnn.yaml")
        let doc = try ScheduleDOT(try out.views.timeline()).build()
        #expect(doc.engine == "nop")
        #expect(doc.text.contains("splines=\"false\""))
        #expect(doc.text.contains("pin=\"true\""))
        let svg = try SVGSummary.parse(doc.render(format: "svg"))
        #expect(svg.texts.contains("array"))
        #expect(svg.texts.contains("dram"))
        #expect(svg.texts.contains("layers"))
        // At least one box per layer in the band plus the intervals.
        #expect(svg.nodes > out.plan!.ops.count + 10)
        #expect(Array(try doc.render(format: "png").prefix(8)) == pngSignature)
        #expect(String(decoding: try doc.render(format: "pdf").prefix(4), as: UTF8.self) == "%PDF")
    }

    @Test func resnet50ScheduleRendersQuicklyWithStalls() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        let clock = ContinuousClock()
        let start = clock.now
        let doc = try ScheduleDOT(try out.views.timeline()).build()
        let svgBytes = try doc.render(format: "svg")
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(5), "ResNet-50 schedule took \(elapsed)")
        let svg = try SVGSummary.parse(svgBytes)
        // Stall boxes are too narrow for their label at this scale; their tooltips say what they are.
        #expect(doc.text.contains("tooltip=\"stall "))
        #expect(doc.text.contains("tooltip=\"idle "))
        #expect(svg.texts.contains("layer3.0"))
        #expect(svg.nodes <= 2000 + 400)
    }

    @Test func scheduleBoxesAreBoundedByMerging() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        let doc = try ScheduleDOT(try out.views.timeline(), options: .init(maxBoxes: 150)).build()
        #expect(doc.notes.contains { $0.contains("merged into") })
        let boxes = doc.text.split(separator: "\n").filter { $0.contains("tooltip=") && $0.contains(" spans)") }
        #expect(!boxes.isEmpty)
        _ = try SVGSummary.parse(doc.render(format: "svg"))
    }

    @Test func scheduleWindow() throws {
        let out = try pipeline(defaultHardware, "traces/resnet50-b1.yaml")
        let whole = try ScheduleDOT(try out.views.timeline()).build()
        let window = try ScheduleDOT(try out.views.timeline(), options: .init(from: 150_000_000, to: 800_000_000)).build()
        #expect(window.text.count < whole.text.count)
        let svg = try SVGSummary.parse(window.render(format: "svg"))
        #expect(svg.texts.contains("layer1.0.conv3"))
        #expect(!svg.texts.contains("layer3.0"))
        #expect(svg.texts.contains("500,000"))
        #expect(throws: InputError.self) { try ScheduleDOT(try out.views.timeline(), options: .init(from: 10_000, to: 10_000)).build() }
        #expect(throws: InputError.self) { try ScheduleDOT(try out.views.timeline(), options: .init(from: 9_000_000_000)).build() }
    }

    @Test func tickSteps() {
        #expect(ScheduleDOT.tickStep(917_000) == 1_000_000)
        #expect(ScheduleDOT.tickStep(120) == 200)
        #expect(ScheduleDOT.tickStep(0.5) == 1)
        #expect(ScheduleDOT.tickStep(5) == 5)
    }
}
