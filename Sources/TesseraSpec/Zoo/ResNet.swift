/// ResNet-18 and ResNet-50 as torchvision builds them, on a 224×224×3 image.
///
/// Batch norm is folded into each convolution and ReLU is fused into it, so neither is a layer.
/// Each block's residual add is a layer (`layerS.B.add`); a block whose stride or width changes
/// has a 1×1 projection shortcut (`layerS.B.downsample`, option B of He et al.) that reads the
/// block's input.
enum ResNet {
    /// Basic blocks (two 3×3 convs), [2, 2, 2, 2] per stage: 20 convolutions with 3 downsamples.
    static func resnet18(training: Bool = false) -> [LayerSpec] {
        build(blocks: [2, 2, 2, 2], bottleneck: false, training: training)
    }

    /// Bottleneck blocks (1×1, 3×3, 1×1 with expansion 4), [3, 4, 6, 3] per stage: 53 convolutions
    /// with 4 downsamples. torchvision's v1.5 puts the stride on the 3×3 conv (v1 put it on the
    /// first 1×1), which is why it counts 4.09 G MACs rather than the paper's 3.8 G.
    static func resnet50(training: Bool = false) -> [LayerSpec] {
        build(blocks: [3, 4, 6, 3], bottleneck: true, training: training)
    }

    /// In training each conv is followed by `<name>.bn` and, except the block's last conv and the
    /// downsample, `<name>.relu`; the block's ReLU follows its add (`<name>.add.relu`).
    private static func build(blocks: [Int], bottleneck: Bool, training: Bool) -> [LayerSpec] {
        var b = CNNBuilder(input: (224, 224, 3))
        b.training = training
        b.conv("conv1", kernel: 7, filters: 64, stride: 2, padding: 3)  // 112×112×64
        b.pool("maxpool", kind: .maxpool, kernel: 3, stride: 2, padding: 1)  // 56×56×64
        let widths = [64, 128, 256, 512]
        let expansion = bottleneck ? 4 : 1
        for (stage, count) in blocks.enumerated() {
            let width = widths[stage]
            for block in 0..<count {
                let prefix = "layer\(stage + 1).\(block)"
                let stride = (stage > 0 && block == 0) ? 2 : 1
                let input = b.shape
                if bottleneck {
                    b.conv("\(prefix).conv1", kernel: 1, filters: width)
                    b.conv("\(prefix).conv2", kernel: 3, filters: width, stride: stride, padding: 1)
                    b.conv("\(prefix).conv3", kernel: 1, filters: width * expansion, relu: false)
                } else {
                    b.conv("\(prefix).conv1", kernel: 3, filters: width, stride: stride, padding: 1)
                    b.conv("\(prefix).conv2", kernel: 3, filters: width, padding: 1, relu: false)
                }
                if stride != 1 || input.c != width * expansion {
                    b.branchConv(
                        "\(prefix).downsample", input: input, kernel: 1, filters: width * expansion, stride: stride)
                }
                b.add("\(prefix).add", relu: true)
            }
        }
        b.globalAveragePool("avgpool")  // 7×7 → 1×1
        b.fc("fc", outputs: 1000)
        return b.layers
    }
}
