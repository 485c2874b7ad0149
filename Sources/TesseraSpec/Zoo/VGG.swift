/// VGG-16 (configuration D of Simonyan & Zisserman 2015) as torchvision builds it, on a 224×224×3
/// image: 13 convolutions 3×3 pad 1 in five stages, each stage ended by a 2×2/2 max pool, then
/// three fully connected layers 25088→4096→4096→1000.
///
/// ReLU is fused into each convolution and FC layer; dropout is the identity at inference; the
/// `AdaptiveAvgPool2d((7, 7))` torchvision puts before the classifier is the identity on a 7×7 map
/// and is omitted.
enum VGG {
    /// In training each conv and the first two FC layers are followed by `<name>.relu` (no batch norm).
    static func vgg16(training: Bool = false) -> [LayerSpec] {
        var b = CNNBuilder(input: (224, 224, 3))
        b.training = training
        b.batchNorm = false
        let stages: [(filters: Int, convs: Int)] = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
        for (index, stage) in stages.enumerated() {
            for conv in 0..<stage.convs {
                b.conv("conv\(index + 1)_\(conv + 1)", kernel: 3, filters: stage.filters, padding: 1)
            }
            b.pool("pool\(index + 1)", kind: .maxpool, kernel: 2, stride: 2)
        }
        b.fc("fc6", outputs: 4096, relu: true)  // 7·7·512 = 25088 inputs
        b.fc("fc7", outputs: 4096, relu: true)
        b.fc("fc8", outputs: 1000)
        return b.layers
    }
}
