import Foundation
import Testing
import TesseraOutput
import TesseraStudy
import TesseraTestSupport

/// An imported ONNX graph against the zoo, end to end: the exported ResNet-18 (its residual
/// branches as graph edges) gives the zoo's cycles, MACs, DRAM traffic and energy on every dense
/// array preset, where one array runs the layers in order.
@Suite struct ONNXCrossCheckTests {
    static let arrays = ["ideal-32x32-os", "scalesim-32x32-os", "scalesim-32x32-ws", "scalesim-32x32-is", "tpu-128x128-os", "tpu-128x128-ws", "tpu-128x128-is"]

    @Test(arguments: arrays)
    func onnxResNet18IsTheZoosOnADenseArray(_ array: String) throws {
        let hw = packageRoot.appendingPathComponent("configs/array/\(array).yaml").path
        let zoo = try Pipeline.load(hardwarePath: hw, workloadPath: packageRoot.appendingPathComponent("traces/resnet18-b1.yaml").path).run().report
        let onnx = try Pipeline.load(hardwarePath: hw, workloadPath: packageRoot.appendingPathComponent("traces/resnet18-onnx-b1.yaml").path).run().report
        #expect(onnx.totalCycles == zoo.totalCycles)
        #expect(onnx.macs == zoo.macs)
        #expect(onnx.dramReadBytes == zoo.dramReadBytes && onnx.dramWriteBytes == zoo.dramWriteBytes)
        #expect(onnx.energy.totalJoules == zoo.energy.totalJoules)
        #expect(onnx.modelNotes.last?.hasPrefix("imported from the ONNX model 'resnet18.onnx'") == true)
    }
}
