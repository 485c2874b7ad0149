import TesseraCore
import TesseraSpec

/// Every hardware family, by the `kind:` of its hardware files: the one place a family is listed.
public enum FamilyTable {
    public static let families: [any HardwareFamily] = [
        ArrayFamily(), SparseTrainingArrayFamily(), EdgeSoCFamily(), GPUClusterFamily(),
    ]

    /// The family that runs hardware of this kind.
    public static func family(of hardware: HardwareSpec) throws(InputError) -> any HardwareFamily {
        if let f = families.first(where: { $0.kind == hardware.kind }) { return f }
        throw InputError(Diagnostic(
            at: SourceLocation(file: hardware.file, line: 1, column: 1), "no hardware family runs this kind",
            expected: "one of \(families.map { "'\($0.kind)'" }.joined(separator: ", "))", found: "kind '\(hardware.kind)'"))
    }

    /// The kinds whose families offer a capability, quoted, for messages ("'a' or 'b'").
    public static func kinds(offering capability: FamilyCapabilities) -> String {
        let names = families.filter { $0.capabilities.contains(capability) }.map { "'\($0.kind)'" }
        switch names.count {
        case 0: return "no kind"
        case 1: return names[0]
        default: return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
        }
    }
}
