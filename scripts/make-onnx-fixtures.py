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

Usage: scripts/make-onnx-fixtures.py [--out DIR] [--check]
  --check  build into a temporary folder and fail unless every file equals the committed one.
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
}


def build(out):
    os.makedirs(out, exist_ok=True)
    for file, make in MODELS.items():
        with open(os.path.join(out, file), "wb") as f:
            f.write(make().SerializeToString(deterministic=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=FIXTURES)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
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
