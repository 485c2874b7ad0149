import TesseraCore
import TesseraSpec

/// A hardware component kind: its YAML declaration and a builder from a validated spec.
///
/// Contract: `schema` declares every parameter once; `init(spec:)` may assume the spec passed
/// validation against that schema (all parameters present with their declared types).
public protocol ComponentModel: Sendable {
    static var schema: ComponentSchema { get }
    init(spec: ComponentSpec)
    var name: String { get }
}

/// Every component kind Tessera knows, by YAML `kind`. Adding a kind means adding its type here.
public enum KindTable {
    public static let kinds: [any ComponentModel.Type] = [
        SystolicArray.self,
        NMSparseArray.self,
        MaskGenerator.self,
        VectorUnit.self,
        CPUCluster.self,
        SRAMBuffer.self,
        DRAMChannel.self,
        HostLink.self,
    ]

    /// Parameters every kind has, declared once.
    public static let commonParameters = [
        ParameterDecl("static_power", .quantityOrZero(.power), default: .number(0), defaultText: "0 W", "leakage (static) power, drawn for the whole run")
    ]

    /// The schemas the spec loader validates against, in table order.
    public static var schemas: [ComponentSchema] {
        kinds.map {
            var s = $0.schema
            s.parameters += commonParameters
            return s
        }
    }

    /// The loader for hardware files, wired with this table and the energy actions.
    public static var hardwareLoader: HardwareLoader {
        HardwareLoader(schemas: schemas, energyActions: EnergyAction.allCases.map(\.rawValue), gpuPresets: GPUPreset.all.map(\.name))
    }
}
