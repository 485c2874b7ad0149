import Foundation
import TesseraCore

/// An N:M structured-sparsity pattern: in every group of M consecutive weights along the reduction
/// dimension, at most N are kept (exactly N in the patterns Tessera generates).
///
/// The kept weights carry an index of ⌈log₂ M⌉ bits that selects the matching activation in its
/// group (an M:1 multiplexer in the array). N = M is dense.
public struct NMPattern: Sendable, Hashable, CustomStringConvertible {
    public var n: Int
    public var m: Int

    /// The largest group size accepted (a 64:1 multiplexer per PE is already far beyond any design).
    public static let maxM = 64

    public init(n: Int, m: Int) {
        self.n = n
        self.m = m
    }

    public static let dense = NMPattern(n: 1, m: 1)

    public var description: String { "\(n):\(m)" }
    /// True when every weight is kept (N = M).
    public var isDense: Bool { n == m }
    /// Kept fraction N/M.
    public var density: Double { Double(n) / Double(m) }
    /// Bits of the index each kept weight carries: ⌈log₂ M⌉ (0 when dense).
    public var indexBits: Int {
        if isDense { return 0 }
        var bits = 0
        while (1 << bits) < m { bits += 1 }
        return bits
    }

    /// Why a text is not a valid pattern.
    public enum ParseError: Error, Equatable {
        case format
        case zero
        case nGreaterThanM(n: Int, m: Int)
        case tooLarge(m: Int)
    }

    /// Parses `"N:M"` (N ≥ 1, N ≤ M ≤ `maxM`).
    public static func parse(_ text: String) -> Result<NMPattern, ParseError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let m = Int(parts[1].trimmingCharacters(in: .whitespaces))
        else { return .failure(.format) }
        guard n >= 1, m >= 1 else { return .failure(.zero) }
        guard n <= m else { return .failure(.nGreaterThanM(n: n, m: m)) }
        guard m <= maxM else { return .failure(.tooLarge(m: m)) }
        return .success(NMPattern(n: n, m: m))
    }

    /// Parses a node holding a pattern, recording a located diagnostic when it is not one.
    static func read(_ node: SpecNode, what: String, bag: inout DiagnosticBag) -> NMPattern? {
        guard let s = node.scalar else {
            bag.error(node.location, "\(what) must be an N:M pattern", expected: "a string such as \"2:8\"", found: node.kindDescription)
            return nil
        }
        switch parse(s) {
        case .success(let p): return p
        case .failure(.format):
            bag.error(node.location, "\(what) is not an N:M pattern", expected: "\"N:M\" with integers, such as \"2:8\"", found: "'\(s)'")
        case .failure(.zero):
            bag.error(node.location, "\(what) has a zero in it", expected: "N ≥ 1 and M ≥ 1", found: "'\(s)'")
        case .failure(.nGreaterThanM(let n, let m)):
            bag.error(node.location, "\(what) keeps more weights than its group has (N > M)", expected: "N ≤ M", found: "N = \(n), M = \(m)")
        case .failure(.tooLarge(let m)):
            bag.error(node.location, "\(what) has a group larger than \(maxM)", expected: "M ≤ \(maxM)", found: "M = \(m)")
        }
        return nil
    }
}
