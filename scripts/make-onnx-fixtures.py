#!/usr/bin/env python3
"""Builds the ONNX models under models/onnx/ with Python's onnx package.

The models hold shapes only: every weight is an initializer whose data lives in an external file
that is not shipped (`weights.bin`), as a large exported model's weights would; Tessera needs only
their shapes. Each graph is written in the order its nodes run, with names in the style of
PyTorch's exporter.

  resnet18.onnx       ResNet-18 as torchvision builds it (BatchNormalization and Relu nodes kept,
                      as a training-mode export leaves them; a dynamic batch axis)
  resnet50.onnx       ResNet-50 as torchvision builds it (v1.5: the stride on the 3x3 conv), with a
                      dynamic image size (pin it with input_shapes: {input: [1, 3, 299, 299]})
  resnet152.onnx      ResNet-152 the same way ([3, 8, 36, 3] bottleneck blocks), dynamic image size
  vgg19.onnx          VGG-19 (configuration E) as torchvision builds it, not in the zoo
  googlenet.onnx      GoogLeNet / Inception v1 (batch norm, the "5x5" branch a 3x3, as TF-slim and
                      torchvision build it), not in the zoo
  mobilenetv1.onnx    MobileNet v1 1.0 (Howard et al. 2017, Table 1), not in the zoo
  mobilenetv2.onnx    MobileNetV2 1.0 (Clip(0, 6) for ReLU6, depthwise convs as groups)
  squeezenet1_1.onnx  SqueezeNet 1.1 as torchvision builds it (not in Tessera's zoo): fire modules
                      whose two expand branches meet in a Concat; MaxPool with ceil_mode
  transformer.onnx    one BERT-base encoder block (768 wide, 12 heads, 3072 FFN, GELU through Erf),
                      with a dynamic batch and sequence and a run-time computed head reshape
  bert-encoder.onnx   twelve such blocks: about 500 nodes, the importer's speed case
  attention-block.onnx the same block with ONNX's fused Attention operator (opset 23) in place of
                      the head reshapes, matmuls and softmax
  densenet121.onnx    DenseNet-121 (Huang et al. 2017, Table 1: growth rate 32, 6/12/24/16 layers),
                      each layer's output joining the features in a Concat, as Keras builds it; not
                      in the zoo
  inceptionv4.onnx    Inception v4 (Szegedy et al. 2016, Figures 3-9) at 299x299, batch norm after
                      every conv, 1x7/7x1 and 1x3/3x1 kernels, not in the zoo
  inception_resnet_v2.onnx Inception-ResNet-v2 as that paper draws it (Figure 15: 5/10/5 residual
                      blocks on the Inception v4 stem) at 299x299, with TF-slim's branch widths: not
                      TF-slim's released model (32.4 M weights, not 55.8 M); not in the zoo

Usage: scripts/make-onnx-fixtures.py [--out DIR] [--check] [--count]
  --check  build into a temporary folder and fail unless every file equals the committed one.
  --count  print each model's parameters and multiply-accumulates (batch 1) and write nothing.
"""
import argparse
import filecmp
import os
import sys
import tempfile

import onnx
from onnx import TensorProto, helper

OPSET = 17
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "models", "onnx")


class Graph:
    """Accumulates nodes and shape-only initializers in run order."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.offset = 0

    def weight(self, name, dims):
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(dims)
        length = 4
        for d in dims:
            length *= d
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights.bin"), ("offset", str(self.offset)), ("length", str(length))):
            entry = t.external_data.add()
            entry.key = key
            entry.value = value
        self.offset += length
        self.initializers.append(t)
        return name

    def ints(self, name, values):
        """A small int64 constant (a shape or an axis list), stored inline."""
        self.initializers.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
        return name

    def node(self, op, inputs, name, outputs=None, **attrs):
        outputs = outputs or [name + "_out"]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def conv(self, x, name, cin, cout, k, stride=1, pad=0, groups=1):
        w = self.weight(name + ".weight", [cout, cin // groups, k, k])
        return self.node("Conv", [x, w], name, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=groups)

    def conv_rect(self, x, name, cin, cout, kh, kw, stride=1, same=False, bias=False):
        """A kh x kw convolution (1x7, 7x1, 1x3, ...): unpadded, or with same=True padded by
        (kh - 1) / 2 rows and (kw - 1) / 2 columns on each side (odd kernels, stride 1: TensorFlow's
        SAME). bias=True gives it a bias input (a linear conv with no batch norm after it)."""
        w = self.weight(name + ".weight", [cout, cin, kh, kw])
        inputs = [x, w] + ([self.weight(name + ".bias", [cout])] if bias else [])
        ph, pw = ((kh - 1) // 2, (kw - 1) // 2) if same else (0, 0)
        return self.node("Conv", inputs, name, kernel_shape=[kh, kw], strides=[stride, stride], pads=[ph, pw, ph, pw])

    def bn(self, x, name, c):
        ps = [self.weight(f"{name}.{p}", [c]) for p in ("weight", "bias", "running_mean", "running_var")]
        return self.node("BatchNormalization", [x] + ps, name)

    def model(self, name, inputs, outputs, opset=OPSET):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.initializers)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tessera-fixtures")
        m.ir_version = 8 if opset <= OPSET else 10
        # The checker reads the external file's metadata: check against a sparse stand-in.
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "weights.bin"), "wb") as f:
                f.truncate(self.offset)
            path = os.path.join(tmp, "model.onnx")
            onnx.save_model(m, path)
            onnx.checker.check_model(path, full_check=True)
        return m


def resnet(blocks, bottleneck, name, image):
    g = Graph()
    x = g.conv("input", "conv1", 3, 64, 7, stride=2, pad=3)
    x = g.node("Relu", [g.bn(x, "bn1", 64)], "relu")
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    expansion = 4 if bottleneck else 1
    for stage, width in enumerate([64, 128, 256, 512]):
        for block in range(blocks[stage]):
            p = f"layer{stage + 1}.{block}"
            stride = 2 if stage > 0 and block == 0 else 1
            identity = x
            if bottleneck:
                y = g.node("Relu", [g.bn(g.conv(x, f"{p}.conv1", cin, width, 1), f"{p}.bn1", width)], f"{p}.relu1")
                y = g.node("Relu", [g.bn(g.conv(y, f"{p}.conv2", width, width, 3, stride=stride, pad=1), f"{p}.bn2", width)], f"{p}.relu2")
                y = g.bn(g.conv(y, f"{p}.conv3", width, width * 4, 1), f"{p}.bn3", width * 4)
            else:
                y = g.conv(x, f"{p}.conv1", cin, width, 3, stride=stride, pad=1)
                y = g.node("Relu", [g.bn(y, f"{p}.bn1", width)], f"{p}.relu1")
                y = g.conv(y, f"{p}.conv2", width, width, 3, pad=1)
                y = g.bn(y, f"{p}.bn2", width)
            if stride != 1 or cin != width * expansion:
                identity = g.bn(g.conv(x, f"{p}.downsample.0", cin, width * expansion, 1, stride=stride), f"{p}.downsample.1", width * expansion)
            x = g.node("Relu", [g.node("Add", [y, identity], f"{p}.add")], f"{p}.relu3" if bottleneck else f"{p}.relu2")
            cin = width * expansion
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w, b = g.weight("fc.weight", [1000, cin]), g.weight("fc.bias", [1000])
    g.node("Gemm", [x, w, b], "fc", outputs=["logits"], transB=1)
    return g.model(
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3] + image)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def resnet18():
    return resnet([2, 2, 2, 2], False, "resnet18", [224, 224])


def vgg(stages, name):
    """VGG (Simonyan & Zisserman 2015) as torchvision builds it: 3x3 convolutions in five stages, each
    ended by a 2x2/2 max pool, then three fully connected layers 25088 -> 4096 -> 4096 -> 1000."""
    g = Graph()
    x, cin = "input", 3
    for i, (cout, convs) in enumerate(stages):
        for k in range(convs):
            x = g.node("Relu", [g.conv(x, f"conv{i + 1}_{k + 1}", cin, cout, 3, pad=1)], f"conv{i + 1}_{k + 1}.relu")
            cin = cout
        x = g.node("MaxPool", [x], f"pool{i + 1}", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", [x], "flatten", axis=1)
    for n, (fin, fout) in zip(("fc6", "fc7", "fc8"), ((25088, 4096), (4096, 4096), (4096, 1000))):
        w, b = g.weight(f"{n}.weight", [fout, fin]), g.weight(f"{n}.bias", [fout])
        x = g.node("Gemm", [x, w, b], n, outputs=["logits"] if n == "fc8" else None, transB=1)
        if n != "fc8":
            x = g.node("Relu", [x], f"{n}.relu")
    return g.model(
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def googlenet():
    """GoogLeNet, Inception v1 (Szegedy et al. 2015, Table 1) as TF-slim's inception_v1 and
    torchvision build it: batch norm after every convolution, the "5x5" branch a 3x3, max pools with
    ceil_mode, no auxiliary classifiers (inference)."""
    g = Graph()

    def conv(x, name, cin, cout, k, stride=1, pad=0):
        return g.node("Relu", [g.bn(g.conv(x, name, cin, cout, k, stride=stride, pad=pad), name + ".bn", cout)], name + ".relu")

    def pool(x, name, k=3, stride=2, pad=0):
        return g.node("MaxPool", [x], name, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, ceil_mode=1)

    def inception(x, name, cin, c1, c3r, c3, c5r, c5, proj):
        a = conv(x, f"{name}.branch1", cin, c1, 1)
        b = conv(conv(x, f"{name}.branch2.0", cin, c3r, 1), f"{name}.branch2.1", c3r, c3, 3, pad=1)
        c = conv(conv(x, f"{name}.branch3.0", cin, c5r, 1), f"{name}.branch3.1", c5r, c5, 3, pad=1)
        d = conv(pool(x, f"{name}.branch4.0", stride=1, pad=1), f"{name}.branch4.1", cin, proj, 1)
        return g.node("Concat", [a, b, c, d], f"{name}.cat", axis=1)

    x = conv("input", "conv1", 3, 64, 7, stride=2, pad=3)
    x = pool(x, "maxpool1")
    x = conv(x, "conv2", 64, 64, 1)
    x = conv(x, "conv3", 64, 192, 3, pad=1)
    x = pool(x, "maxpool2")
    x = inception(x, "inception3a", 192, 64, 96, 128, 16, 32, 32)
    x = inception(x, "inception3b", 256, 128, 128, 192, 32, 96, 64)
    x = pool(x, "maxpool3")
    x = inception(x, "inception4a", 480, 192, 96, 208, 16, 48, 64)
    x = inception(x, "inception4b", 512, 160, 112, 224, 24, 64, 64)
    x = inception(x, "inception4c", 512, 128, 128, 256, 24, 64, 64)
    x = inception(x, "inception4d", 512, 112, 144, 288, 32, 64, 64)
    x = inception(x, "inception4e", 528, 256, 160, 320, 32, 128, 128)
    x = pool(x, "maxpool4", k=2)
    x = inception(x, "inception5a", 832, 256, 160, 320, 32, 128, 128)
    x = inception(x, "inception5b", 832, 384, 192, 384, 48, 128, 128)
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w, b = g.weight("fc.weight", [1000, 1024]), g.weight("fc.bias", [1000])
    g.node("Gemm", [x, w, b], "fc", outputs=["logits"], transB=1)
    return g.model(
        "googlenet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def densenet121():
    """DenseNet-121 (Huang et al. 2017, Table 1): growth rate k = 32; a 7x7/2 conv (64 filters) with
    batch norm and ReLU and a 3x3/2 max pool; dense blocks of 6, 12, 24 and 16 layers, each layer
    BN-ReLU-Conv1x1 (4k = 128 filters)-BN-ReLU-Conv3x3 (k = 32 filters) whose output is concatenated
    to the block's features; between blocks a transition BN-ReLU-Conv1x1 (compression 0.5: half the
    channels)-AvgPool 2x2/2; a final BN-ReLU, a global average pool and a 1000-way Gemm. The
    concatenation is written as Keras builds it: each layer's output joins the running features in a
    Concat of two."""
    g = Graph()
    growth, widths = 32, [6, 12, 24, 16]

    def bn_relu(x, name, c):
        return g.node("Relu", [g.bn(x, name, c)], name.replace("norm", "relu"))

    x = g.conv("input", "features.conv0", 3, 64, 7, stride=2, pad=3)
    x = g.node("Relu", [g.bn(x, "features.norm0", 64)], "features.relu0")
    x = g.node("MaxPool", [x], "features.pool0", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = 64
    for b, layers in enumerate(widths):
        for i in range(layers):
            p = f"features.denseblock{b + 1}.denselayer{i + 1}"
            y = g.conv(bn_relu(x, f"{p}.norm1", c), f"{p}.conv1", c, 4 * growth, 1)
            y = g.conv(bn_relu(y, f"{p}.norm2", 4 * growth), f"{p}.conv2", 4 * growth, growth, 3, pad=1)
            x = g.node("Concat", [x, y], f"{p}.cat", axis=1)
            c += growth
        if b < len(widths) - 1:
            p = f"features.transition{b + 1}"
            x = g.conv(bn_relu(x, f"{p}.norm", c), f"{p}.conv", c, c // 2, 1)
            x = g.node("AveragePool", [x], f"{p}.pool", kernel_shape=[2, 2], strides=[2, 2])
            c //= 2
    x = bn_relu(x, "features.norm5", c)
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w, b = g.weight("classifier.weight", [1000, c]), g.weight("classifier.bias", [1000])
    g.node("Gemm", [x, w, b], "classifier", outputs=["logits"], transB=1)
    return g.model(
        "densenet121",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


class _Inception:
    """The building blocks Inception v4 and Inception-ResNet-v2 share (Szegedy et al. 2016): convs
    with batch norm and ReLU, TensorFlow's VALID (no padding) or SAME padding, and the stem of
    Figure 3."""

    def __init__(self, g):
        self.g = g

    def conv(self, x, name, cin, cout, kh, kw=None, stride=1, same=False):
        kw = kh if kw is None else kw
        y = self.g.conv_rect(x, name, cin, cout, kh, kw, stride=stride, same=same)
        return self.g.node("Relu", [self.g.bn(y, name + ".bn", cout)], name + ".relu")

    def maxpool(self, x, name):
        """3x3/2, VALID."""
        return self.g.node("MaxPool", [x], name, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0])

    def avgpool(self, x, name):
        """3x3/1, SAME (the padding not counted, as TensorFlow's average pool does)."""
        return self.g.node("AveragePool", [x], name, kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])

    def cat(self, xs, name):
        return self.g.node("Concat", xs, name, axis=1)

    def stem(self, x):
        """Figure 3: 299x299x3 to 35x35x384."""
        x = self.conv(x, "stem.conv1", 3, 32, 3, stride=2)                  # 149x149x32
        x = self.conv(x, "stem.conv2", 32, 32, 3)                           # 147x147x32
        x = self.conv(x, "stem.conv3", 32, 64, 3, same=True)                # 147x147x64
        x = self.cat([self.maxpool(x, "stem.mixed1.pool"),
                      self.conv(x, "stem.mixed1.conv", 64, 96, 3, stride=2)], "stem.mixed1.cat")  # 73x73x160
        a = self.conv(self.conv(x, "stem.mixed2.branch1.0", 160, 64, 1), "stem.mixed2.branch1.1", 64, 96, 3)
        b = self.conv(x, "stem.mixed2.branch2.0", 160, 64, 1)
        b = self.conv(b, "stem.mixed2.branch2.1", 64, 64, 7, 1, same=True)
        b = self.conv(b, "stem.mixed2.branch2.2", 64, 64, 1, 7, same=True)
        b = self.conv(b, "stem.mixed2.branch2.3", 64, 96, 3)
        x = self.cat([a, b], "stem.mixed2.cat")                             # 71x71x192
        return self.cat([self.conv(x, "stem.mixed3.conv", 192, 192, 3, stride=2),
                         self.maxpool(x, "stem.mixed3.pool")], "stem.mixed3.cat")  # 35x35x384

    def reduction_a(self, x, name, cin, k, l, m, n):
        """Figure 7: 35x35 to 17x17, cin + n + m channels."""
        a = self.maxpool(x, f"{name}.branch1")
        b = self.conv(x, f"{name}.branch2", cin, n, 3, stride=2)
        c = self.conv(x, f"{name}.branch3.0", cin, k, 1)
        c = self.conv(c, f"{name}.branch3.1", k, l, 3, same=True)
        c = self.conv(c, f"{name}.branch3.2", l, m, 3, stride=2)
        return self.cat([a, b, c], f"{name}.cat")

    def head(self, x, c, name):
        g = self.g
        x = g.node("GlobalAveragePool", [x], "avgpool")
        x = g.node("Flatten", [x], "flatten", axis=1)
        w, b = g.weight("fc.weight", [1000, c]), g.weight("fc.bias", [1000])
        g.node("Gemm", [x, w, b], "fc", outputs=["logits"], transB=1)
        return g.model(
            name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 299, 299])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def inception_v4():
    """Inception v4 (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of Residual
    Connections", Figures 3-9) at 299x299: the stem, 4 Inception-A (Figure 4), Reduction-A (Figure 7,
    k=192 l=224 m=256 n=384), 7 Inception-B (Figure 5), Reduction-B (Figure 8), 3 Inception-C
    (Figure 6), a global average pool and a 1000-way Gemm (no dropout: inference). Every conv has
    batch norm and ReLU; a "1x7" conv is 1 row by 7 columns (kernel_shape [1, 7]). Inception-B's
    third branch is 1x1 192, 1x7 224, 7x1 256 (the figure's second "1x7" read as 7x1, as in TF-slim's
    inception_v4)."""
    g = Graph()
    n = _Inception(g)
    x = n.stem("input")
    for i in range(4):
        p = f"inception_a{i + 1}"
        a = n.conv(n.avgpool(x, f"{p}.branch1.pool"), f"{p}.branch1", 384, 96, 1)
        b = n.conv(x, f"{p}.branch2", 384, 96, 1)
        c = n.conv(n.conv(x, f"{p}.branch3.0", 384, 64, 1), f"{p}.branch3.1", 64, 96, 3, same=True)
        d = n.conv(x, f"{p}.branch4.0", 384, 64, 1)
        d = n.conv(d, f"{p}.branch4.1", 64, 96, 3, same=True)
        d = n.conv(d, f"{p}.branch4.2", 96, 96, 3, same=True)
        x = n.cat([a, b, c, d], f"{p}.cat")                                 # 35x35x384
    x = n.reduction_a(x, "reduction_a", 384, 192, 224, 256, 384)           # 17x17x1024
    for i in range(7):
        p = f"inception_b{i + 1}"
        a = n.conv(n.avgpool(x, f"{p}.branch1.pool"), f"{p}.branch1", 1024, 128, 1)
        b = n.conv(x, f"{p}.branch2", 1024, 384, 1)
        c = n.conv(x, f"{p}.branch3.0", 1024, 192, 1)
        c = n.conv(c, f"{p}.branch3.1", 192, 224, 1, 7, same=True)
        c = n.conv(c, f"{p}.branch3.2", 224, 256, 7, 1, same=True)
        d = n.conv(x, f"{p}.branch4.0", 1024, 192, 1)
        d = n.conv(d, f"{p}.branch4.1", 192, 192, 1, 7, same=True)
        d = n.conv(d, f"{p}.branch4.2", 192, 224, 7, 1, same=True)
        d = n.conv(d, f"{p}.branch4.3", 224, 224, 1, 7, same=True)
        d = n.conv(d, f"{p}.branch4.4", 224, 256, 7, 1, same=True)
        x = n.cat([a, b, c, d], f"{p}.cat")                                 # 17x17x1024
    a = n.maxpool(x, "reduction_b.branch1")
    b = n.conv(n.conv(x, "reduction_b.branch2.0", 1024, 192, 1), "reduction_b.branch2.1", 192, 192, 3, stride=2)
    c = n.conv(x, "reduction_b.branch3.0", 1024, 256, 1)
    c = n.conv(c, "reduction_b.branch3.1", 256, 256, 1, 7, same=True)
    c = n.conv(c, "reduction_b.branch3.2", 256, 320, 7, 1, same=True)
    c = n.conv(c, "reduction_b.branch3.3", 320, 320, 3, stride=2)
    x = n.cat([a, b, c], "reduction_b.cat")                                 # 8x8x1536
    for i in range(3):
        p = f"inception_c{i + 1}"
        a = n.conv(n.avgpool(x, f"{p}.branch1.pool"), f"{p}.branch1", 1536, 256, 1)
        b = n.conv(x, f"{p}.branch2", 1536, 256, 1)
        c = n.conv(x, f"{p}.branch3.0", 1536, 384, 1)
        c1 = n.conv(c, f"{p}.branch3.1a", 384, 256, 1, 3, same=True)
        c2 = n.conv(c, f"{p}.branch3.1b", 384, 256, 3, 1, same=True)
        d = n.conv(x, f"{p}.branch4.0", 1536, 384, 1)
        d = n.conv(d, f"{p}.branch4.1", 384, 448, 1, 3, same=True)
        d = n.conv(d, f"{p}.branch4.2", 448, 512, 3, 1, same=True)
        d1 = n.conv(d, f"{p}.branch4.3a", 512, 256, 1, 3, same=True)
        d2 = n.conv(d, f"{p}.branch4.3b", 512, 256, 3, 1, same=True)
        x = n.cat([a, b, c1, c2, d1, d2], f"{p}.cat")                       # 8x8x1536
    return n.head(x, 1536, "inceptionv4")


def inception_resnet_v2():
    """Inception-ResNet-v2 in the layout of the released model (TF-slim's and Keras's
    inception_resnet_v2, the one trained on ImageNet and compiled for the Edge TPU), at 299x299. It
    differs from the paper's Figure 15 (Szegedy et al. 2016): its stem ends in 35x35x192 (3x3/2 32,
    3x3 32, 3x3 64, max pool, 1x1 80, 3x3 192, max pool) and a mixed block to 320 (1x1 96 | 1x1 48,
    5x5 64 | 1x1 64, 3x3 96, 3x3 96 | 3x3 average pool, 1x1 64); then 10 Inception-ResNet-A blocks
    (1x1 32 | 1x1 32, 3x3 32 | 1x1 32, 3x3 48, 3x3 64; concat 128, linear 1x1 back to 320),
    Reduction-A (k=256 l=256 m=384 n=384, to 17x17x1088), 20 Inception-ResNet-B blocks (1x1 192 |
    1x1 128, 1x7 160, 7x1 192; concat 384, linear 1x1 to 1088), Reduction-B (3x3/2 max pool | 1x1
    256, 3x3/2 384 | 1x1 256, 3x3/2 288 | 1x1 256, 3x3 288, 3x3/2 320; to 8x8x2080), 10
    Inception-ResNet-C blocks (1x1 192 | 1x1 192, 1x3 224, 3x1 256; concat 448, linear 1x1 to 2080;
    the last without the ReLU), a 1x1 conv to 1536, a global average pool and a 1000-way Gemm.
    Each residual branch ends in a linear 1x1 conv (a bias, no batch norm) and an Add with the
    block's input; the residual scaling (0.17, 0.1, 0.2) is taken as folded into that conv. Every
    other conv has batch norm and ReLU. 55.8 M parameters and 13.2 G MACs (--count prints them)."""
    g = Graph()
    n = _Inception(g)

    def residual(x, r, name, c, relu=True):
        y = g.conv_rect(r[0], f"{name}.conv", r[1], c, 1, 1, bias=True)
        s = g.node("Add", [x, y], f"{name}.add")
        return g.node("Relu", [s], f"{name}.relu") if relu else s

    x = n.conv("input", "conv1a", 3, 32, 3, stride=2)
    x = n.conv(x, "conv2a", 32, 32, 3)
    x = n.conv(x, "conv2b", 32, 64, 3, same=True)
    x = n.maxpool(x, "pool3a")
    x = n.conv(x, "conv3b", 64, 80, 1)
    x = n.conv(x, "conv4a", 80, 192, 3)
    x = n.maxpool(x, "pool5a")                                               # 35x35x192
    a = n.conv(x, "mixed5b.branch1", 192, 96, 1)
    b = n.conv(n.conv(x, "mixed5b.branch2.0", 192, 48, 1), "mixed5b.branch2.1", 48, 64, 5, same=True)
    c = n.conv(x, "mixed5b.branch3.0", 192, 64, 1)
    c = n.conv(n.conv(c, "mixed5b.branch3.1", 64, 96, 3, same=True), "mixed5b.branch3.2", 96, 96, 3, same=True)
    d = n.conv(n.avgpool(x, "mixed5b.branch4.0"), "mixed5b.branch4.1", 192, 64, 1)
    x = n.cat([a, b, c, d], "mixed5b.cat")                                  # 35x35x320
    for i in range(10):
        p = f"block_a{i + 1}"
        a = n.conv(x, f"{p}.branch1", 320, 32, 1)
        b = n.conv(n.conv(x, f"{p}.branch2.0", 320, 32, 1), f"{p}.branch2.1", 32, 32, 3, same=True)
        c = n.conv(x, f"{p}.branch3.0", 320, 32, 1)
        c = n.conv(n.conv(c, f"{p}.branch3.1", 32, 48, 3, same=True), f"{p}.branch3.2", 48, 64, 3, same=True)
        x = residual(x, (n.cat([a, b, c], f"{p}.cat"), 128), p, 320)
    x = n.reduction_a(x, "reduction_a", 320, 256, 256, 384, 384)           # 17x17x1088
    for i in range(20):
        p = f"block_b{i + 1}"
        a = n.conv(x, f"{p}.branch1", 1088, 192, 1)
        b = n.conv(x, f"{p}.branch2.0", 1088, 128, 1)
        b = n.conv(b, f"{p}.branch2.1", 128, 160, 1, 7, same=True)
        b = n.conv(b, f"{p}.branch2.2", 160, 192, 7, 1, same=True)
        x = residual(x, (n.cat([a, b], f"{p}.cat"), 384), p, 1088)
    a = n.maxpool(x, "reduction_b.branch1")
    b = n.conv(n.conv(x, "reduction_b.branch2.0", 1088, 256, 1), "reduction_b.branch2.1", 256, 384, 3, stride=2)
    c = n.conv(n.conv(x, "reduction_b.branch3.0", 1088, 256, 1), "reduction_b.branch3.1", 256, 288, 3, stride=2)
    d = n.conv(x, "reduction_b.branch4.0", 1088, 256, 1)
    d = n.conv(d, "reduction_b.branch4.1", 256, 288, 3, same=True)
    d = n.conv(d, "reduction_b.branch4.2", 288, 320, 3, stride=2)
    x = n.cat([a, b, c, d], "reduction_b.cat")                              # 8x8x2080
    for i in range(10):
        p = f"block_c{i + 1}"
        a = n.conv(x, f"{p}.branch1", 2080, 192, 1)
        b = n.conv(x, f"{p}.branch2.0", 2080, 192, 1)
        b = n.conv(b, f"{p}.branch2.1", 192, 224, 1, 3, same=True)
        b = n.conv(b, f"{p}.branch2.2", 224, 256, 3, 1, same=True)
        x = residual(x, (n.cat([a, b], f"{p}.cat"), 448), p, 2080, relu=i < 9)
    x = n.conv(x, "conv7b", 2080, 1536, 1)
    return n.head(x, 1536, "inception_resnet_v2")


def mobilenetv1():
    g = Graph()
    x = g.node("Relu", [g.bn(g.conv("input", "conv0", 3, 32, 3, stride=2, pad=1), "conv0.bn", 32)], "conv0.relu")
    cin = 32
    for i, (cout, stride) in enumerate([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]):
        p = f"block{i + 1}"
        x = g.node("Relu", [g.bn(g.conv(x, f"{p}.dw", cin, cin, 3, stride=stride, pad=1, groups=cin), f"{p}.dw.bn", cin)], f"{p}.dw.relu")
        x = g.node("Relu", [g.bn(g.conv(x, f"{p}.pw", cin, cout, 1), f"{p}.pw.bn", cout)], f"{p}.pw.relu")
        cin = cout
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w, b = g.weight("fc.weight", [1000, 1024]), g.weight("fc.bias", [1000])
    g.node("Gemm", [x, w, b], "fc", outputs=["logits"], transB=1)
    return g.model(
        "mobilenetv1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def mobilenetv2():
    g = Graph()
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    zero, six = g.weight("relu6.min", []), g.weight("relu6.max", [])

    def relu6(x, name):
        return g.node("Clip", [x, zero, six], name)

    x = relu6(g.bn(g.conv("input", "features.0.0", 3, 32, 3, stride=2, pad=1), "features.0.1", 32), "features.0.2")
    cin, index = 32, 0
    for t, c, n, s in settings:
        for r in range(n):
            index += 1
            p = f"features.{index}"
            stride = s if r == 0 else 1
            hidden = cin * t
            y = x
            if t != 1:
                y = relu6(g.bn(g.conv(y, f"{p}.expand", cin, hidden, 1), f"{p}.expand.bn", hidden), f"{p}.expand.relu6")
            y = relu6(g.bn(g.conv(y, f"{p}.dw", hidden, hidden, 3, stride=stride, pad=1, groups=hidden), f"{p}.dw.bn", hidden), f"{p}.dw.relu6")
            y = g.bn(g.conv(y, f"{p}.project", hidden, c, 1), f"{p}.project.bn", c)
            if stride == 1 and cin == c:
                y = g.node("Add", [x, y], f"{p}.add")
            x, cin = y, c
    x = relu6(g.bn(g.conv(x, "features.18.0", 320, 1280, 1), "features.18.1", 1280), "features.18.2")
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w, b = g.weight("classifier.weight", [1000, 1280]), g.weight("classifier.bias", [1000])
    g.node("Gemm", [x, w, b], "classifier", outputs=["logits"], transB=1)
    return g.model(
        "mobilenetv2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def squeezenet():
    g = Graph()
    x = g.node("Relu", [g.conv("input", "features.0", 3, 64, 3, stride=2)], "features.1")

    def pool(x, name):
        return g.node("MaxPool", [x], name, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)

    def fire(x, name, cin, squeeze, e1, e3):
        s = g.node("Relu", [g.conv(x, f"{name}.squeeze", cin, squeeze, 1)], f"{name}.squeeze_activation")
        a = g.node("Relu", [g.conv(s, f"{name}.expand1x1", squeeze, e1, 1)], f"{name}.expand1x1_activation")
        b = g.node("Relu", [g.conv(s, f"{name}.expand3x3", squeeze, e3, 3, pad=1)], f"{name}.expand3x3_activation")
        return g.node("Concat", [a, b], f"{name}.cat", axis=1)

    x = pool(x, "features.2")
    x = fire(x, "features.3", 64, 16, 64, 64)
    x = fire(x, "features.4", 128, 16, 64, 64)
    x = pool(x, "features.5")
    x = fire(x, "features.6", 128, 32, 128, 128)
    x = fire(x, "features.7", 256, 32, 128, 128)
    x = pool(x, "features.8")
    x = fire(x, "features.9", 256, 48, 192, 192)
    x = fire(x, "features.10", 384, 48, 192, 192)
    x = fire(x, "features.11", 384, 64, 256, 256)
    x = fire(x, "features.12", 512, 64, 256, 256)
    x = g.node("Dropout", [x], "classifier.0")
    x = g.node("Relu", [g.conv(x, "classifier.1", 512, 1000, 1)], "classifier.2")
    x = g.node("GlobalAveragePool", [x], "classifier.3")
    g.node("Flatten", [x], "flatten", outputs=["logits"], axis=1)
    return g.model(
        "squeezenet1_1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])])


def encoder(blocks, name, fused=False):
    hidden, heads, ffn = 768, 12, 3072
    d = hidden // heads
    g = Graph()
    g.ints("axes0", [0])
    g.ints("heads_dims", [heads, d])
    g.ints("merge_shape", [0, 0, hidden])
    sqrt_d = g.weight("sqrt_head_dim", [])
    half, one, sqrt2 = g.weight("half", []), g.weight("one", []), g.weight("sqrt2", [])
    x = "hidden_states"
    for i in range(blocks):
        p = f"encoder.layer.{i}"

        def linear(v, n, k, out):
            w, b = g.weight(f"{p}.{n}.weight", [k, out]), g.weight(f"{p}.{n}.bias", [out])
            return g.node("Add", [g.node("MatMul", [v, w], f"{p}.{n}/MatMul"), b], f"{p}.{n}/Add")

        def split_heads(v, n):
            # The exporter computes [batch, sequence, heads, head_dim] at run time from Shape.
            shape = g.node("Shape", [v], f"{p}.{n}/Shape")
            dims = []
            for axis in range(2):
                idx = g.ints(f"{p}.{n}.index{axis}", [axis])
                dims.append(g.node("Gather", [shape, idx], f"{p}.{n}/Gather{axis}", axis=0))
            target = g.node("Concat", dims + ["heads_dims"], f"{p}.{n}/Concat", axis=0)
            r = g.node("Reshape", [v, target], f"{p}.{n}/Reshape")
            return g.node("Transpose", [r], f"{p}.{n}/Transpose", perm=[0, 2, 1, 3])

        if fused:
            q, k, v = (linear(x, f"attention.self.{n}", hidden, hidden) for n in ("query", "key", "value"))
            ctx = g.node("Attention", [q, k, v], f"{p}.attention.self/Attention", q_num_heads=heads, kv_num_heads=heads)
        else:
            q = split_heads(linear(x, "attention.self.query", hidden, hidden), "attention.self.query")
            k = split_heads(linear(x, "attention.self.key", hidden, hidden), "attention.self.key")
            v = split_heads(linear(x, "attention.self.value", hidden, hidden), "attention.self.value")
            kt = g.node("Transpose", [k], f"{p}.attention.self/Transpose_kt", perm=[0, 1, 3, 2])
            scores = g.node("MatMul", [q, kt], f"{p}.attention.self/MatMul_qk")
            scores = g.node("Div", [scores, sqrt_d], f"{p}.attention.self/Div")
            probs = g.node("Softmax", [scores], f"{p}.attention.self/Softmax", axis=-1)
            ctx = g.node("MatMul", [probs, v], f"{p}.attention.self/MatMul_av")
            ctx = g.node("Transpose", [ctx], f"{p}.attention.self/Transpose_out", perm=[0, 2, 1, 3])
            ctx = g.node("Reshape", [ctx, "merge_shape"], f"{p}.attention.self/Reshape_out")
        y = linear(ctx, "attention.output.dense", hidden, hidden)
        y = g.node("Add", [y, x], f"{p}.attention.output/Add_residual")
        ln_w, ln_b = g.weight(f"{p}.attention.output.LayerNorm.weight", [hidden]), g.weight(f"{p}.attention.output.LayerNorm.bias", [hidden])
        x1 = g.node("LayerNormalization", [y, ln_w, ln_b], f"{p}.attention.output.LayerNorm", axis=-1, epsilon=1e-12)
        h = linear(x1, "intermediate.dense", hidden, ffn)
        # GELU as the exporter writes it: x * 0.5 * (1 + erf(x / sqrt(2))).
        e = g.node("Erf", [g.node("Div", [h, sqrt2], f"{p}.intermediate/Div")], f"{p}.intermediate/Erf")
        e = g.node("Add", [e, one], f"{p}.intermediate/Add_one")
        h = g.node("Mul", [g.node("Mul", [h, e], f"{p}.intermediate/Mul"), half], f"{p}.intermediate/Mul_half")
        y = linear(h, "output.dense", ffn, hidden)
        y = g.node("Add", [y, x1], f"{p}.output/Add_residual")
        ln_w, ln_b = g.weight(f"{p}.output.LayerNorm.weight", [hidden]), g.weight(f"{p}.output.LayerNorm.bias", [hidden])
        out = "last_hidden_state" if i == blocks - 1 else None
        x = g.node("LayerNormalization", [y, ln_w, ln_b], f"{p}.output.LayerNorm", outputs=[out] if out else None, axis=-1, epsilon=1e-12)
    return g.model(
        name,
        [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, ["batch", "sequence", hidden])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])],
        opset=23 if fused else OPSET)


MODELS = {
    "resnet18.onnx": resnet18,
    "resnet50.onnx": lambda: resnet([3, 4, 6, 3], True, "resnet50", ["height", "width"]),
    "resnet152.onnx": lambda: resnet([3, 8, 36, 3], True, "resnet152", ["height", "width"]),
    "vgg19.onnx": lambda: vgg([(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)], "vgg19"),
    "googlenet.onnx": googlenet,
    "mobilenetv1.onnx": mobilenetv1,
    "mobilenetv2.onnx": mobilenetv2,
    "squeezenet1_1.onnx": squeezenet,
    "transformer.onnx": lambda: encoder(1, "transformer-block"),
    "bert-encoder.onnx": lambda: encoder(12, "bert-encoder"),
    "attention-block.onnx": lambda: encoder(1, "attention-block", fused=True),
    "densenet121.onnx": densenet121,
    "inceptionv4.onnx": inception_v4,
    "inception_resnet_v2.onnx": inception_resnet_v2,
}


def count(model):
    """Parameters (every float initializer but batch norm's running mean and variance, as a training
    framework counts them) and multiply-accumulates of Conv, Gemm (transB=1) and MatMul by a constant
    at batch 1, from ONNX's shape inference; MACs are None where an output's size depends on a
    dynamic axis other than the batch."""
    m = onnx.shape_inference.infer_shapes(model)
    dims = {t.name: list(t.dims) for t in m.graph.initializer}
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.output)}
    stats = {n.input[i] for n in m.graph.node if n.op_type == "BatchNormalization" for i in (3, 4)}
    params = 0
    for t in m.graph.initializer:
        if t.data_type == TensorProto.FLOAT and t.name not in stats:
            n = 1
            for d in t.dims:
                n *= d
            params += n
    macs = 0
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm", "MatMul") or n.input[1] not in dims:
            continue
        out = shapes.get(n.output[0])
        if out is None or any(d is None for d in out[1:]):
            return params, None
        w = dims[n.input[1]]
        per_output = 1
        for d in {"Conv": w[1:], "Gemm": w[1:2], "MatMul": w[:1]}[n.op_type]:
            per_output *= d
        elements = 1
        for d in out[1:]:
            elements *= d
        macs += elements * per_output
    return params, macs


def build(out):
    os.makedirs(out, exist_ok=True)
    for file, make in MODELS.items():
        with open(os.path.join(out, file), "wb") as f:
            f.write(make().SerializeToString(deterministic=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=FIXTURES)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--count", action="store_true", help="print each model's parameters and MACs (batch 1) and write nothing")
    args = ap.parse_args()
    if args.count:
        for file, make in MODELS.items():
            params, macs = count(make())
            print(f"{file:<26} {params / 1e6:8.2f} M parameters  " + (f"{macs / 1e9:7.2f} G MACs" if macs is not None else "    MACs depend on a dynamic axis"))
        return 0
    if not args.check:
        build(args.out)
        print(f"wrote {len(MODELS)} models to {os.path.normpath(args.out)} (onnx {onnx.__version__})")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(tmp)
        stale = [f for f in MODELS if not os.path.exists(os.path.join(FIXTURES, f)) or not filecmp.cmp(os.path.join(tmp, f), os.path.join(FIXTURES, f), shallow=False)]
    if stale:
        print("the script no longer reproduces: " + ", ".join(stale) + " (run make onnx-fixtures and commit the result)", file=sys.stderr)
        return 1
    print(f"all {len(MODELS)} ONNX fixtures reproduced byte for byte (onnx {onnx.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
