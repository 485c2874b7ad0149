import TesseraCore
import TesseraSpec

/// The engine that prunes dense weights to N:M every iteration (SAT's sparse online reduction
/// engine): `lanes` streaming top-N sorters, each taking one M-element group in
/// M · `cycles_per_element` cycles, pipelined across groups.
///
///     cycles(groups) = ⌈groups / lanes⌉ · M · cycles_per_element
///
/// A layer's K×N weights are K·N/M groups per mask; BDWP needs two masks (W along K, Wᵀ along N),
/// each generated from the dense weights. Complexity O(1).
public struct MaskGenerator: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "mask-generator", role: .compute, summary: "N:M mask generator: streaming top-N sorter lanes",
        parameters: [
            ParameterDecl("lanes", .int(min: 1), default: .int(32), "parallel sorter lanes, one M-element group each"),
            ParameterDecl("cycles_per_element", .int(min: 1), default: .int(1), "cycles a lane spends per weight (M per group at 1)"),
        ])

    public var name: String
    public var lanes: Int
    public var cyclesPerElement: Int

    public init(spec: ComponentSpec) {
        name = spec.name
        lanes = max(1, spec.int("lanes"))
        cyclesPerElement = max(1, spec.int("cycles_per_element"))
    }

    public init(name: String = "maskgen", lanes: Int, cyclesPerElement: Int = 1) {
        self.name = name
        self.lanes = max(1, lanes)
        self.cyclesPerElement = max(1, cyclesPerElement)
    }

    /// Cycles to prune `weights` values (a multiple of M) to `pattern`: ⌈(weights/M)/lanes⌉·M·cpe.
    public func cycles(weights: Int, pattern: NMPattern) -> Int {
        let groups = ceilDiv(weights, pattern.m)
        return ceilDiv(groups, lanes) * pattern.m * cyclesPerElement
    }
}
