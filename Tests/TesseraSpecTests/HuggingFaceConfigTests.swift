import Foundation
import Testing
import TesseraCore

@testable import TesseraSpec

/// Hugging Face config.json files as transformers: every family's fields, parameter counts against
/// the published ones (`Fixtures/hf/README.md`), overrides beside `hf_config`, and located errors.
@Suite struct HuggingFaceConfigTests {
    static func fixture(_ name: String) throws -> (text: String, path: String) {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let url = root.appendingPathComponent("hf/\(name).json")
        return (try String(contentsOf: url, encoding: .utf8), url.path)
    }

    @Test(arguments: [
        ("llama3-8b", 8.03e9), ("mistral-7b", 7.24e9), ("mixtral-8x7b", 46.7e9), ("qwen2-7b", 7.62e9), ("gpt2", 124.44e6), ("gpt-neox-20b", 20.55e9),
    ])
    func parameterCountsMatchThePublishedOnes(_ name: String, _ published: Double) throws {
        let f = try Self.fixture(name)
        let t = try HuggingFaceConfig.transformer(f.text, file: f.path)
        #expect(abs(t.parameters - published) / published < 0.005, "\(name): \(t.parameters)")
    }

    /// The Llama 3 8B config gives the zoo's model exactly.
    @Test func llama3ConfigIsTheZoosModel() throws {
        let f = try Self.fixture("llama3-8b")
        var t = try HuggingFaceConfig.transformer(f.text, file: f.path)
        let zoo = try #require(TransformerSpec.named("llama3-8b"))
        #expect(t.name == "Meta-Llama-3-8B")
        t.name = zoo.name
        #expect(t == zoo)
    }

    @Test func eachFamilyReadsItsOwnFields() throws {
        let mixtral = try HuggingFaceConfig.transformer(try Self.fixture("mixtral-8x7b").text, file: "m.json")
        #expect(mixtral.experts == 8 && mixtral.topK == 2 && mixtral.gatedFFN && mixtral.kvHeads == 8)
        let gpt2 = try HuggingFaceConfig.transformer(try Self.fixture("gpt2").text, file: "g.json")
        #expect(gpt2.ffn == 4 * 768 && !gpt2.gatedFFN && !gpt2.untiedHead && gpt2.positionEmbeddings == 1024 && gpt2.seqLen == 1024)
        let neox = try HuggingFaceConfig.transformer(try Self.fixture("gpt-neox-20b").text, file: "n.json")
        #expect(neox.untiedHead && neox.kvHeads == 64 && neox.positionEmbeddings == 0)
        let falcon = try HuggingFaceConfig.transformer(try Self.fixture("falcon-7b").text, file: "f.json")
        #expect(falcon.kvHeads == 1 && falcon.ffn == 4 * 4544 && !falcon.untiedHead && falcon.headDim == 64)
    }

    @Test(arguments: [
        ("{\"model_type\": \"bert\", \"hidden_size\": 768}", 1, 2, "unknown architecture 'bert'"),
        ("{\"model_type\": \"llama\",\n \"hidden_size\": 4096}", 1, 1, "the config has no 'num_hidden_layers'"),
        ("{\"model_type\": \"gpt2\", \"n_embd\": 768, \"n_layer\": \"twelve\", \"n_head\": 12, \"vocab_size\": 50257}", 1, 39, "'n_layer' must be a whole number"),
        ("{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_hidden_layers\": 2, \"num_attention_heads\": 32,\n \"num_key_value_heads\": 5, \"intermediate_size\": 64, \"vocab_size\": 10}", 2, 2, "do not divide the heads"),
        ("not json", 1, 1, "not a Hugging Face config.json"),
    ])
    func badConfigsAreLocated(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        #expect {
            _ = try HuggingFaceConfig.transformer(text, file: "config.json")
        } throws: { error in
            let d = (error as? InputError)?.diagnostics.first
            return d?.location?.file == "config.json" && d?.location?.line == line && d?.location?.column == column && d?.description.contains(message) == true
        }
    }

    /// In a workload: `hf_config` relative to the workload, with `seq_len` overriding.
    @Test func aWorkloadNamesAConfigBesideIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.fixture("mistral-7b").text.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("w.yaml").path
        let w = try WorkloadLoader.parse(
            "tessera: 1\nname: w\nphase: training\nbatch: 8\ntransformer: {hf_config: config.json, seq_len: 4096}\nparallelism: {tp: 8}\n", file: file)
        let t = try #require(w.llm?.transformer)
        #expect(t.seqLen == 4096 && t.hidden == 4096 && t.vocab == 32000 && t.name == "Mistral-7B-v0.1*")
        #expect {
            _ = try WorkloadLoader.parse("tessera: 1\nname: w\nphase: training\ntransformer: {hf_config: nope.json}\n", file: file)
        } throws: { error in
            (error as? InputError)?.description.contains("w.yaml:4:26: error: cannot read the Hugging Face config 'nope.json'") == true
        }
    }
}
