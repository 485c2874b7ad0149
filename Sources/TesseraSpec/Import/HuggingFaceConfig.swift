import Foundation
import TesseraCore

/// A Hugging Face `config.json` as a `TransformerSpec` (`transformer: {hf_config: path}`).
///
/// Families, by `model_type` (field names as the `transformers` library writes them):
/// - `llama`, `mistral`, `mixtral`, `qwen2`: `hidden_size`, `num_hidden_layers`,
///   `num_attention_heads`, `num_key_value_heads` (default: the heads), `intermediate_size`,
///   `vocab_size`, `max_position_embeddings`, `tie_word_embeddings` (default false); SwiGLU
///   feed-forward; Mixtral's `num_local_experts` and `num_experts_per_tok`.
/// - `gpt2`: `n_embd`, `n_layer`, `n_head`, `n_inner` (null: 4·n_embd), `vocab_size`,
///   `n_positions`; GELU feed-forward, tied output, learned position embeddings.
/// - `gpt_neox`: `hidden_size`, `num_hidden_layers`, `num_attention_heads`, `intermediate_size`,
///   `vocab_size`, `max_position_embeddings`, `tie_word_embeddings` (default false).
/// - `falcon` (also the older `RefinedWeb`/`RefinedWebModel`): `hidden_size`, `num_hidden_layers`
///   (or `n_layer`), `num_attention_heads` (or `n_head`), key/value heads from `num_kv_heads`, or 1
///   when `multi_query` is true; feed-forward 4·hidden (`ffn_hidden_size` when given); tied output.
/// The sequence length is `max_position_embeddings` (`n_positions`, at most 2²⁰); a `seq_len` beside
/// `hf_config` overrides it, as any other transformer key does. Biases and norms are not counted
/// (under 0.1% of these models); the parameter counts match the model cards within 0.5% (tested).
public enum HuggingFaceConfig {
    public static let families = ["llama", "mistral", "mixtral", "qwen2", "gpt2", "gpt_neox", "falcon"]

    /// The transformer `text` (a config.json read from `file`) describes.
    public static func transformer(_ text: String, file: String) throws(InputError) -> TransformerSpec {
        var bag = DiagnosticBag()
        guard let data = text.data(using: .utf8), case .object(let json)? = try? JSONDecoder().decode(JSONNode.self, from: data) else {
            throw InputError(Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "not a Hugging Face config.json", expected: "a JSON object", found: "'\(text.prefix(40))'"))
        }
        /// Where `"key"` first appears in the text (JSON parsing keeps no positions).
        func location(_ key: String) -> SourceLocation {
            guard let range = text.range(of: "\"\(key)\"") else { return SourceLocation(file: file, line: 1, column: 1) }
            let before = text[..<range.lowerBound]
            let line = before.reduce(1) { $1.isNewline ? $0 + 1 : $0 }
            let column = before.distance(from: before.lastIndex(where: \.isNewline).map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
            return SourceLocation(file: file, line: line, column: column)
        }
        func int(_ keys: [String], default d: Int? = nil) -> Int? {
            for key in keys {
                guard let v = json[key], v != .null else { continue }
                if case .number(let x) = v, x >= 1, x <= Double(InputLimits.count), let i = Int(exactly: x) { return i }
                bag.error(location(key), "'\(key)' must be a whole number from 1 to \(InputLimits.count)", expected: "an integer", found: v.description)
                return nil
            }
            if let d { return d }
            bag.error(SourceLocation(file: file, line: 1, column: 1), "the config has no '\(keys[0])'", expected: "'\(keys[0])': an integer", found: "no '\(keys.joined(separator: "' or '"))'")
            return nil
        }
        func bool(_ key: String, default d: Bool) -> Bool {
            guard let v = json[key], v != .null else { return d }
            if case .bool(let b) = v { return b }
            bag.error(location(key), "'\(key)' must be true or false", expected: "true or false", found: v.description)
            return d
        }
        var type = ""
        if case .string(let s)? = json["model_type"] { type = s }
        let family: String
        switch type {
        case "llama", "mistral", "mixtral", "qwen2", "gpt2", "gpt_neox", "falcon": family = type
        case "RefinedWeb", "RefinedWebModel": family = "falcon"
        default:
            throw InputError(Diagnostic(
                at: location("model_type"), "unknown architecture '\(type)'", expected: "a model_type of " + families.map { "'\($0)'" }.joined(separator: ", "),
                found: type.isEmpty ? "no 'model_type'" : "'\(type)'", hint: closestMatch(to: type, in: families).map { "did you mean '\($0)'?" }))
        }
        var t: TransformerSpec?
        let positions = { (keys: [String]) in min(int(keys, default: 2048) ?? 2048, InputLimits.count) }
        switch family {
        case "gpt2":
            let h = int(["n_embd"]), l = int(["n_layer"]), a = int(["n_head"]), v = int(["vocab_size"]), n = int(["n_positions"], default: 1024)
            if let h, let l, let a, let v, let n {
                let ffn = int(["n_inner"], default: 4 * h) ?? 4 * h
                t = TransformerSpec(name: "gpt2", layers: l, hidden: h, heads: a, ffn: ffn, seqLen: n, vocab: v, positionEmbeddings: n)
            }
        case "gpt_neox":
            let h = int(["hidden_size"]), l = int(["num_hidden_layers"]), a = int(["num_attention_heads"]), f = int(["intermediate_size"]), v = int(["vocab_size"])
            if let h, let l, let a, let f, let v {
                t = TransformerSpec(name: "gpt-neox", layers: l, hidden: h, heads: a, ffn: f, seqLen: positions(["max_position_embeddings"]), vocab: v, untiedHead: !bool("tie_word_embeddings", default: false))
            }
        case "falcon":
            let h = int(["hidden_size"]), l = int(["num_hidden_layers", "n_layer"]), a = int(["num_attention_heads", "n_head"]), v = int(["vocab_size"])
            if let h, let l, let a, let v {
                let kv = bool("multi_query", default: false) ? int(["num_kv_heads"], default: 1) : int(["num_kv_heads", "n_head_kv"], default: a)
                t = TransformerSpec(
                    name: "falcon", layers: l, hidden: h, heads: a, kvHeads: kv, ffn: int(["ffn_hidden_size"], default: 4 * h) ?? 4 * h,
                    seqLen: positions(["max_position_embeddings"]), vocab: v, untiedHead: !bool("tie_word_embeddings", default: true))
            }
        default:  // llama, mistral, mixtral, qwen2
            let h = int(["hidden_size"]), l = int(["num_hidden_layers"]), a = int(["num_attention_heads"]), f = int(["intermediate_size"]), v = int(["vocab_size"])
            if let h, let l, let a, let f, let v {
                let experts = family == "mixtral" ? int(["num_local_experts"], default: 8) ?? 8 : 1
                let topK = family == "mixtral" ? int(["num_experts_per_tok"], default: 2) ?? 2 : 1
                t = TransformerSpec(
                    name: family, layers: l, hidden: h, heads: a, kvHeads: int(["num_key_value_heads"], default: a), ffn: f,
                    seqLen: positions(["max_position_embeddings"]), vocab: v, gatedFFN: true, experts: experts, topK: topK,
                    untiedHead: !bool("tie_word_embeddings", default: false))
            }
        }
        try bag.throwIfErrors()
        guard var spec = t else { throw InputError(bag.diagnostics) }
        if case .string(let path)? = json["_name_or_path"], let last = path.split(separator: "/").last { spec.name = String(last) }
        if spec.hidden % spec.heads != 0 {
            throw InputError(Diagnostic(at: location("num_attention_heads"), "the heads do not divide the hidden size", expected: "heads dividing \(spec.hidden)", found: "\(spec.heads) heads"))
        }
        if spec.heads % spec.kvHeads != 0 {
            throw InputError(Diagnostic(at: location("num_key_value_heads"), "the key/value heads do not divide the heads", expected: "a divisor of \(spec.heads)", found: "\(spec.kvHeads)"))
        }
        if spec.topK > spec.experts {
            throw InputError(Diagnostic(at: location("num_experts_per_tok"), "a token cannot be routed to more experts than there are", expected: "at most \(spec.experts)", found: "\(spec.topK)"))
        }
        return spec
    }

    /// Reads the file `path` names (relative to the file `node` is in).
    static func read(_ pathNode: SpecNode, bag: inout DiagnosticBag) -> TransformerSpec? {
        guard let path = Scalar.string(pathNode, what: "'transformer.hf_config'", bag: &bag) else { return nil }
        let base = URL(fileURLWithPath: pathNode.location.file).deletingLastPathComponent()
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        guard let data = try? Data(contentsOf: url), data.count <= 16 << 20, let text = String(data: data, encoding: .utf8) else {
            bag.error(pathNode.location, "cannot read the Hugging Face config '\(path)'", expected: "a readable config.json of at most 16 MiB", found: "'\(url.path)'")
            return nil
        }
        do {
            return try transformer(text, file: url.path)
        } catch {
            bag.append(contentsOf: error.diagnostics)
            return nil
        }
    }
}

/// A JSON value that keeps numbers and booleans apart (what a config.json needs, on every platform).
enum JSONNode: Decodable, Equatable, CustomStringConvertible {
    case object([String: JSONNode]), array([JSONNode]), string(String), number(Double), bool(Bool), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONNode].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONNode].self))
        }
    }

    var description: String {
        switch self {
        case .object: "an object"
        case .array: "a list"
        case .string(let s): "'\(s.prefix(40))'"
        case .number(let x): formatDecimal(x)
        case .bool(let b): "\(b)"
        case .null: "null"
        }
    }
}
