import TesseraCore

/// One layer of a workload, per sample: the batch multiplies it during elaboration.
public struct LayerSpec: Sendable, Hashable {
    public var name: String
    public var op: LayerOp
    /// Where the layer was written, for diagnostics; `nil` for model-zoo layers.
    public var location: SourceLocation?
    /// The earlier layers (indices into the workload's layer list) whose outputs this layer reads,
    /// in operand order; an empty list reads only graph inputs. `nil` (every zoo model and a plain
    /// layer list) chains the layer after the one before it.
    public var inputs: [Int]?

    public init(name: String, op: LayerOp, location: SourceLocation? = nil, inputs: [Int]? = nil) {
        self.name = name
        self.op = op
        self.location = location
        self.inputs = inputs
    }
}

/// What a layer computes.
public enum LayerOp: Sendable, Hashable {
    /// A 2-D convolution over an `H×W×C` input (NHWC, per sample).
    case conv2d(Conv2D)
    /// A matrix product `[m×k]·[k×n]` per sample; the batch stacks samples along `m`.
    case gemm(GEMM)
    /// `count` independent matrix products per sample (attention's QKᵀ and AV per head); the batch
    /// multiplies `count`.
    case matmul(BatchedMatmul)
    /// Max/average pooling over an `H×W×C` input.
    case pool(Pool)
    /// An elementwise or normalisation op over `elements` values per sample.
    case elementwise(Elementwise)

    /// The op's YAML name.
    public var name: String {
        switch self {
        case .conv2d: "conv2d"
        case .gemm: "gemm"
        case .matmul: "matmul"
        case .pool(let p): p.kind.rawValue
        case .elementwise(let e): e.kind.rawValue
        }
    }
}

public struct Conv2D: Sendable, Hashable {
    public var inputH: Int, inputW: Int, channels: Int
    public var kernelH: Int, kernelW: Int
    public var filters: Int
    public var stride: Int
    public var padding: Int
    /// Channel groups: 1 is a plain convolution, `channels` is depthwise.
    public var groups: Int

    public init(
        input: (h: Int, w: Int, c: Int), kernel: (r: Int, s: Int), filters: Int, stride: Int = 1,
        padding: Int = 0, groups: Int = 1
    ) {
        self.inputH = input.h
        self.inputW = input.w
        self.channels = input.c
        self.kernelH = kernel.r
        self.kernelW = kernel.s
        self.filters = filters
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// Output height: ⌊(H + 2p − R) / stride⌋ + 1.
    public var outputH: Int { (inputH + 2 * padding - kernelH) / stride + 1 }
    /// Output width: ⌊(W + 2p − S) / stride⌋ + 1.
    public var outputW: Int { (inputW + 2 * padding - kernelW) / stride + 1 }
    /// Multiply-accumulates per sample: E·F·M·R·S·C/groups.
    public var macs: Int { outputH * outputW * filters * kernelH * kernelW * (channels / max(groups, 1)) }
}

public struct GEMM: Sendable, Hashable {
    public var m: Int, n: Int, k: Int
    public init(m: Int, n: Int, k: Int) {
        self.m = m
        self.n = n
        self.k = k
    }
    public var macs: Int { m * n * k }
}

public struct BatchedMatmul: Sendable, Hashable {
    public var count: Int, m: Int, n: Int, k: Int
    public init(count: Int, m: Int, n: Int, k: Int) {
        self.count = count
        self.m = m
        self.n = n
        self.k = k
    }
    public var macs: Int { count * m * n * k }
}

public struct Pool: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case maxpool, avgpool }
    public var kind: Kind
    public var inputH: Int, inputW: Int, channels: Int
    public var kernelH: Int, kernelW: Int
    public var stride: Int
    public var padding: Int
    public init(kind: Kind, input: (h: Int, w: Int, c: Int), kernel: (r: Int, s: Int), stride: Int, padding: Int = 0) {
        self.kind = kind
        self.inputH = input.h
        self.inputW = input.w
        self.channels = input.c
        self.kernelH = kernel.r
        self.kernelW = kernel.s
        self.stride = stride
        self.padding = padding
    }
    public var outputH: Int { (inputH + 2 * padding - kernelH) / stride + 1 }
    public var outputW: Int { (inputW + 2 * padding - kernelW) / stride + 1 }
}

public struct Elementwise: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case add, mul, relu, gelu, softmax, layernorm, batchnorm
        /// How many input tensors of `elements` values the op reads.
        public var inputs: Int {
            switch self {
            case .add, .mul: 2
            default: 1
            }
        }
    }
    public var kind: Kind
    /// Values per sample in each input and in the output.
    public var elements: Int
    public init(kind: Kind, elements: Int) {
        self.kind = kind
        self.elements = elements
    }
}

extension LayerOp {
    /// Multiply-accumulates per sample (zero for pooling and elementwise ops).
    public var macs: Int {
        switch self {
        case .conv2d(let c): c.macs
        case .gemm(let g): g.macs
        case .matmul(let b): b.macs
        case .pool, .elementwise: 0
        }
    }
}

extension LayerOp {
    /// Per-sample sizes in floating point (which cannot trap), for the bounds check that runs
    /// before any integer product of a layer's dimensions is formed: multiply-accumulates and the
    /// largest tensor in elements.
    public var sizeEstimate: (macs: Double, elements: Double) {
        func d(_ x: Int) -> Double { Double(x) }
        switch self {
        case .conv2d(let c):
            let oh = max(1, d(c.inputH + 2 * c.padding - c.kernelH) / d(c.stride) + 1)
            let ow = max(1, d(c.inputW + 2 * c.padding - c.kernelW) / d(c.stride) + 1)
            let macs = oh * ow * d(c.filters) * d(c.kernelH) * d(c.kernelW) * d(c.channels) / d(max(c.groups, 1))
            return (macs, max(d(c.inputH) * d(c.inputW) * d(c.channels), oh * ow * d(c.filters), d(c.kernelH) * d(c.kernelW) * d(c.channels) * d(c.filters)))
        case .gemm(let g):
            return (d(g.m) * d(g.n) * d(g.k), max(d(g.m) * d(g.k), d(g.k) * d(g.n), d(g.m) * d(g.n)))
        case .matmul(let b):
            return (d(b.count) * d(b.m) * d(b.n) * d(b.k), d(b.count) * max(d(b.m) * d(b.k), d(b.k) * d(b.n), d(b.m) * d(b.n)))
        case .pool(let p):
            return (0, d(p.inputH) * d(p.inputW) * d(p.channels))
        case .elementwise(let e):
            return (0, d(e.elements))
        }
    }
}

/// The largest layer the models take (DESIGN convention 11): with the batch, at most 2⁴⁶ elements
/// in one tensor (256 TiB at 4 bytes each) and 2⁵² multiply-accumulates, so that bytes, MACs and
/// training's three passes stay exact in `UInt64` and `Double` everywhere they are formed.
public enum LayerBounds {
    public static let maxElements = Double(1 << 46)
    public static let maxMACs = Double(1 << 52)
}
