import Foundation
import Testing
import TesseraStudy
import TesseraTestSupport

@testable import TesseraOutput

/// The console summary of an accelerator run: the costliest layers first, and stalls split into
/// memory-only layers and layers waiting on memory.
@Suite struct ConsoleSummaryTests {
    @Test func theCostliestLayersComeFirstAndStallsAreSplit() throws {
        let r = try Pipeline.load(
            hardwarePath: packageRoot.appendingPathComponent("configs/array/tpu-128x128-os.yaml").path,
            workloadPath: packageRoot.appendingPathComponent("traces/resnet18-b1.yaml").path
        ).run().report
        let text = r.table(maxLayers: 5)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[1] == "the 5 costliest of 31 layers:")
        let shown = lines[3..<8].map { $0.split(separator: " ").first.map(String.init) ?? "" }
        let expected = r.layers.enumerated().sorted { ($0.element.totalCycles, -$0.offset) > ($1.element.totalCycles, -$1.offset) }.prefix(5).map(\.element.name)
        #expect(shown == Array(expected))
        #expect(shown.first == "conv1")
        let memoryOnly = r.layers.filter { $0.computeCycles == 0 }.reduce(UInt64(0)) { $0 + $1.stallCycles }
        #expect(memoryOnly > 0 && lines[0].contains("stalls \(r.stallCycles) cycles (\(r.stallCycles - memoryOnly) waiting on memory, \(memoryOnly) in memory-only layers)"))
        #expect(lines.last == "… 26 more layers in the report, in workload order")
        // With room for every layer, they are listed in workload order.
        #expect(r.table(maxLayers: 100).split(separator: "\n")[2].hasPrefix("conv1 "))
    }
}
