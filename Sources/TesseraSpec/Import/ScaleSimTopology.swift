import Foundation
import TesseraCore

/// SCALE-Sim's topology CSVs as a workload's layers (`layers: {scalesim_csv: path}`), so that a
/// SCALE-Sim case runs here unchanged and gives the same cycles.
///
/// Two formats, told apart by the header (SCALE-Sim v2/v3, `scalesim/topology_utils.py`):
/// - **convolution**: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
///   Channels, Num Filter, Strides,` (a ninth column is a separate horizontal stride). SCALE-Sim
///   computes an output side as ⌈(H − R + s)/s⌉, without padding. Where that equals Tessera's
///   ⌊(H − R)/s⌋ + 1 (the stride divides H − R) the row becomes a `conv2d`; otherwise it becomes
///   the GEMM SCALE-Sim itself simulates (M = output pixels by SCALE-Sim's formula, N = filters,
///   K = R·S·C), so the cycles stay SCALE-Sim's. A row whose name contains `DP` is a depthwise
///   convolution, which SCALE-Sim splits into one single-channel layer per channel
///   (`<name>Channel_<i>`); so does this reader.
/// - **GEMM** (`Layer, M, N, K,`): a `gemm` with SCALE-Sim's M, N and K (M output rows, N
///   columns, K the reduction).
/// SCALE-Sim does not require unique layer names; a repeated name gets `#2`, `#3`, … here. Every
/// bad row is an error at the CSV file, its line and the column of the bad field.
public enum ScaleSimTopology {
    public enum Format: String, Sendable { case convolution, gemm }

    /// The most layers one topology may expand to.
    public static let maxLayers = 100_000

    /// The layers of `text`, a topology CSV read from `file`.
    public static func layers(_ text: String, file: String, bag: inout DiagnosticBag) -> [LayerSpec] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated().map { (number: $0.offset + 1, text: String($0.element).trimmingCharacters(in: .whitespacesAndNewlines)) }
        lines.removeAll { $0.text.isEmpty }
        guard let header = lines.first else {
            bag.error(SourceLocation(file: file, line: 1, column: 1), "the SCALE-Sim topology is empty", expected: "a header and one row per layer", found: "no lines")
            return []
        }
        let squashed = header.text.lowercased().filter { $0.isLetter || $0 == "," }
        let format: Format
        if squashed.contains("ifmapheight") {
            format = .convolution
        } else if squashed.hasSuffix(",m,n,k") || squashed.hasSuffix(",m,n,k,") {
            format = .gemm
        } else {
            bag.error(
                SourceLocation(file: file, line: header.number, column: 1), "not a SCALE-Sim topology header",
                expected: "'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,' or 'Layer, M, N, K,'",
                found: "'\(header.text.prefix(80))'")
            return []
        }
        var out: [LayerSpec] = []
        var seen: [String: Int] = [:]
        func unique(_ name: String) -> String {
            let n = (seen[name] ?? 0) + 1
            seen[name] = n
            return n == 1 ? name : "\(name)#\(n)"
        }
        for line in lines.dropFirst() {
            // Fields and the column each starts at (1-based), without the trailing empty one.
            var fields: [(text: String, column: Int)] = []
            var column = 1
            for part in line.text.split(separator: ",", omittingEmptySubsequences: false) {
                let leading = part.prefix { $0 == " " || $0 == "\t" }.count
                fields.append((part.trimmingCharacters(in: .whitespaces), column + leading))
                column += part.count + 1
            }
            while let last = fields.last, last.text.isEmpty { fields.removeLast() }
            let needed = format == .convolution ? 8 : 4
            let at = SourceLocation(file: file, line: line.number, column: 1)
            guard fields.count >= needed, fields.count <= needed + (format == .convolution ? 1 : 0) else {
                bag.error(
                    at, "a SCALE-Sim \(format.rawValue) row has \(needed) fields", expected: format == .convolution ? "name, H, W, R, S, C, filters, stride" : "name, M, N, K",
                    found: "\(fields.count) field\(fields.count == 1 ? "" : "s")")
                continue
            }
            let names = format == .convolution ? ["IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels", "Num Filter", "Strides", "stride (width)"] : ["M", "N", "K"]
            var values: [Int] = []
            for (k, f) in fields.dropFirst().enumerated() {
                guard let v = Int(f.text), v >= 1, v <= InputLimits.count else {
                    bag.error(
                        SourceLocation(file: file, line: line.number, column: f.column), "'\(names[k])' must be a whole number from 1 to \(InputLimits.count)",
                        expected: "an integer", found: "'\(f.text)'")
                    values = []
                    break
                }
                values.append(v)
            }
            guard values.count == fields.count - 1 else { continue }
            let name = fields[0].text.isEmpty ? "layer\(out.count + 1)" : fields[0].text
            if format == .gemm {
                out.append(LayerSpec(name: unique(name), op: .gemm(GEMM(m: values[0], n: values[1], k: values[2])), location: at))
                continue
            }
            let (h, w, r, s, c, f, stride) = (values[0], values[1], values[2], values[3], values[4], values[5], values[6])
            if values.count == 8, values[7] != stride {
                bag.error(
                    SourceLocation(file: file, line: line.number, column: fields[8].column), "different vertical and horizontal strides are not supported",
                    expected: "the same stride on both axes", found: "\(stride) and \(values[7])")
                continue
            }
            guard r <= h, s <= w else {
                bag.error(at, "layer '\(name)': the filter is larger than the input", expected: "Filter Height ≤ IFMAP Height and Filter Width ≤ IFMAP Width", found: "\(r)×\(s) on \(h)×\(w)")
                continue
            }
            let depthwise = name.contains("DP")
            guard out.count + (depthwise ? c : 1) <= maxLayers else {
                bag.error(at, "the SCALE-Sim topology expands to more than \(maxLayers) layers", expected: "at most \(maxLayers) layers (a depthwise row is one per channel)", found: "row \(line.number) of '\(name)'")
                break
            }
            for k in 0..<(depthwise ? c : 1) {
                let layerName = unique(depthwise ? "\(name)Channel_\(k)" : name)
                let channels = depthwise ? 1 : c
                if (h - r) % stride == 0, (w - s) % stride == 0 {
                    out.append(LayerSpec(name: layerName, op: .conv2d(Conv2D(input: (h, w, channels), kernel: (r, s), filters: f, stride: stride)), location: at))
                } else {
                    // SCALE-Sim's output side ⌈(H − R + s)/s⌉ is one more than a convolution without padding gives.
                    let e = (h - r + stride + stride - 1) / stride, g = (w - s + stride + stride - 1) / stride
                    out.append(LayerSpec(name: layerName, op: .gemm(GEMM(m: e * g, n: f, k: r * s * channels)), location: at))
                }
            }
        }
        if out.isEmpty, !bag.hasErrors {
            bag.error(SourceLocation(file: file, line: header.number, column: 1), "the SCALE-Sim topology has no layers", expected: "one row per layer after the header", found: "only the header")
        }
        return out
    }

    /// `layers: {scalesim_csv: path}`: reads the file (relative to the workload's folder).
    static func read(_ node: SpecNode, workloadFile: String, bag: inout DiagnosticBag) -> [LayerSpec] {
        guard var r = MappingReader(node, what: "'layers'", bag: &bag) else { return [] }
        let pathNode = r.required("scalesim_csv", expected: "the path of a SCALE-Sim topology CSV", bag: &bag)
        r.finish(bag: &bag)
        guard let pathNode, let path = Scalar.string(pathNode, what: "'scalesim_csv'", bag: &bag) else { return [] }
        let base = URL(fileURLWithPath: workloadFile).deletingLastPathComponent()
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        guard let data = try? Data(contentsOf: url), data.count <= 64 << 20 else {
            bag.error(pathNode.location, "cannot read the SCALE-Sim topology '\(path)'", expected: "a readable CSV file of at most 64 MiB", found: "'\(url.path)'")
            return []
        }
        guard let text = String(data: data, encoding: .utf8) else {
            bag.error(pathNode.location, "the SCALE-Sim topology '\(path)' is not text", expected: "a UTF-8 CSV file", found: "\(data.count) bytes of binary data")
            return []
        }
        return layers(text, file: url.path, bag: &bag)
    }
}
