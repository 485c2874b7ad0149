/// The GEMM view of an operation: `count` independent products of an `m×k` operand A (ifmap,
/// im2col'd for a convolution) and a `k×n` operand B (filter) into an `m×n` output.
///
/// For a convolution: m = batch·E·F (output pixels), n = filters per group, k = R·S·C/groups,
/// count = groups.
public struct GemmShape: Sendable, Hashable, Codable {
    public var m: Int, n: Int, k: Int
    public var count: Int
    public init(m: Int, n: Int, k: Int, count: Int = 1) {
        self.m = m
        self.n = n
        self.k = k
        self.count = count
    }
    public var macs: Int { count * m * n * k }
}
