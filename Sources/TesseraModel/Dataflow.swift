/// Which operand stays in the PEs of a systolic array while the others stream through.
public enum Dataflow: String, Sendable, Hashable, CaseIterable, Codable {
    case outputStationary = "output-stationary"
    case weightStationary = "weight-stationary"
    case inputStationary = "input-stationary"

    /// The short name (`os`, `ws`, `is`) that SCALE-Sim and many papers use.
    public var short: String {
        switch self {
        case .outputStationary: "os"
        case .weightStationary: "ws"
        case .inputStationary: "is"
        }
    }

    public static let aliases: [String: String] = [
        "os": Dataflow.outputStationary.rawValue, "ws": Dataflow.weightStationary.rawValue,
        "is": Dataflow.inputStationary.rawValue,
    ]
}
