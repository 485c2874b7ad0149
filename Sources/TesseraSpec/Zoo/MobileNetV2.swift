/// MobileNetV2 1.0 (Sandler et al. 2018, Table 2) as torchvision builds it, on a 224×224×3 image.
///
/// Stem 3×3/2 conv to 32 channels; 17 inverted-residual blocks from the (t, c, n, s) table, each an
/// optional 1×1 expansion (`blockN.expand`, absent when t = 1), a 3×3 depthwise conv with
/// groups == channels (`blockN.dw`) carrying the stride of the first block of a group, and a
/// linear 1×1 projection (`blockN.project`); a residual add (`blockN.add`) when the stride is 1 and
/// the width is unchanged; then a 1×1 conv to 1280, a 7×7 global average pool and the 1280→1000
/// classifier. 52 convolutions in all (1 + 2 + 16·3 + 1).
///
/// Batch norm is folded into each convolution and ReLU6 is fused into it; dropout is omitted.
enum MobileNetV2 {
    /// (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
    static let settings: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]

    /// In training each conv is followed by `<name>.bn`, and by `<name>.relu` (ReLU6) except the
    /// linear projection.
    static func layers(training: Bool = false) -> [LayerSpec] {
        var b = CNNBuilder(input: (224, 224, 3))
        b.training = training
        b.conv("stem", kernel: 3, filters: 32, stride: 2, padding: 1)  // 112×112×32
        var index = 0
        for setting in settings {
            for repeatIndex in 0..<setting.n {
                index += 1
                let name = "block\(index)"
                let stride = repeatIndex == 0 ? setting.s : 1
                let inputChannels = b.c
                let hidden = inputChannels * setting.t
                if setting.t != 1 {
                    b.conv("\(name).expand", kernel: 1, filters: hidden)
                }
                b.conv("\(name).dw", kernel: 3, filters: hidden, stride: stride, padding: 1, groups: hidden)
                b.conv("\(name).project", kernel: 1, filters: setting.c, relu: false)
                if stride == 1 && inputChannels == setting.c {
                    b.add("\(name).add")
                }
            }
        }
        b.conv("conv_last", kernel: 1, filters: 1280)  // 7×7×1280
        b.globalAveragePool("avgpool")
        b.fc("classifier", outputs: 1000)
        return b.layers
    }
}
