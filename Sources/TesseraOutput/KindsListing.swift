import TesseraModel
import TesseraSpec

/// The `tessera kinds` listing, generated from the kind table's declarations.
public enum KindsListing {
    public static func text() -> String {
        var s = "Hardware kinds:\n"
        for (k, v) in HardwareKind.supported.sorted(by: { $0.key < $1.key }) { s += "  \(k): \(v)\n" }
        s += "\nComponent kinds:\n"
        for schema in KindTable.schemas {
            s += "\n  \(schema.kind)  (\(schema.role.rawValue)) — \(schema.summary)\n"
            let w = schema.parameters.map(\.name.count).max() ?? 0
            for p in schema.parameters {
                let name = p.name + String(repeating: " ", count: w - p.name.count)
                let def = p.defaultText.map { "default \($0)" } ?? "required"
                s += "    \(name)  \(p.description); \(p.type.summary); \(def)\n"
            }
        }
        s += "\nWorkload layer ops:\n  conv2d: input [H, W, C], kernel [R, S], filters, stride (1), padding (0), groups (1)\n"
        s += "  gemm: m, n, k (the batch multiplies m)\n  matmul: count (1), m, n, k (the batch multiplies count)\n"
        s += "  maxpool, avgpool: input [H, W, C], kernel [R, S], stride (1), padding (0)\n"
        s += "  add, mul, relu, gelu, softmax, layernorm: elements (per sample)\n"
        s += "\nModel zoo: " + ModelZoo.names.joined(separator: ", ") + "\n"
        return s
    }
}
