import Foundation
import TesseraCore
import TesseraModel
import Testing

@testable import TesseraSpec

// Every malformed file under Fixtures/bad/ must fail to load with an `InputError` whose diagnostic
// points at the right file, line and column, says what was expected and what was found, and
// renders as `file:line:column: error: …`. A fixture that is not in the table fails the coverage
// test, so none goes untested.

/// One malformed fixture and the diagnostic it must produce.
struct BadInput: Sendable, CustomTestStringConvertible {
    /// The fixture's file name in `Fixtures/bad/`.
    var file: String
    var line: Int
    var column: Int
    /// A piece of the rendered diagnostic that identifies the mistake.
    var message: String
    /// The file the diagnostic points into, when the mistake is in another file than the one loaded.
    var pointsInto: String?

    init(_ file: String, _ line: Int, _ column: Int, _ message: String, in pointsInto: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.pointsInto = pointsInto
    }

    var testDescription: String { file }
}

enum BadInputTable {
    static let cases: [BadInput] = [
        // YAML itself
        BadInput("empty-file.yaml", 1, 1, "the file is empty"),
        BadInput("top-level-list.yaml", 2, 1, "must be a mapping"),
        BadInput("hw-syntax-bad-indent.yaml", 10, 11, "mapping values are not allowed"),
        BadInput("hw-syntax-unclosed-bracket.yaml", 7, 1, "did not find expected ',' or ']'"),
        BadInput("wl-syntax-unclosed-quote.yaml", 7, 1, "quoted scalar that starts at"),
        BadInput("hw-tab-indent.yaml", 7, 1, "found a tab character"),
        BadInput("hw-duplicate-key.yaml", 8, 1, "duplicate key 'clock'"),
        BadInput("hw-duplicate-key-in-component.yaml", 11, 5, "duplicate key 'rows'"),
        BadInput("hw-complex-key.yaml", 6, 3, "a mapping key must be a plain name"),
        BadInput("hw-yaml-alias.yaml", 9, 61, "YAML aliases are not supported ('*clk')"),
        // the header
        BadInput("hw-missing-tessera.yaml", 2, 1, "missing the key 'tessera'"),
        BadInput("hw-wrong-schema-version.yaml", 2, 10, "unsupported schema version"),
        BadInput("hw-missing-name.yaml", 2, 1, "missing the key 'name'"),
        BadInput("hw-name-not-string.yaml", 3, 7, "'name' must be a name"),
        // hardware: top level
        BadInput("hw-unknown-kind.yaml", 4, 7, "did you mean 'array'?"),
        // GPU clusters
        BadInput("hw-cluster-fat-tree-four-levels.yaml", 5, 58, "a fat-tree has 2 or 3 levels"),
        BadInput("wl-llm-unknown-transformer.yaml", 5, 14, "unknown transformer 'gpt4-1t'"),
        BadInput("wl-llm-zero-stage.yaml", 6, 28, "unknown ZeRO stage"),
        BadInput("wl-llm-virtual-stages-without-pp.yaml", 6, 38, "virtual stages interleave a pipeline"),
        BadInput("wl-llm-sequence-parallel-without-tp.yaml", 6, 41, "sequence parallelism splits a tensor-parallel group's activations"),
        BadInput("wl-llm-attention-kernel.yaml", 6, 33, "unknown attention kernel"),
        BadInput("wl-fp8-on-layers.yaml", 4, 12, "fp8 runs the matrix products of a transformer training step"),
        BadInput("wl-llm-fault-two-components.yaml", 8, 5, "a fault names one component"),
        BadInput("wl-llm-heads-not-dividing.yaml", 5, 14, "the key/value heads do not divide the heads"),
        BadInput("hw-cluster-torus-cannot-be-built.yaml", 7, 33, "the torus cannot be built"),
        BadInput("hw-cluster-unknown-preset.yaml", 5, 15, "unknown GPU preset"),
        BadInput("hw-cluster-nics-not-dividing.yaml", 9, 64, "the NICs do not divide the GPUs of a node"),
        BadInput("wl-collective-unknown-algorithm.yaml", 4, 57, "did you mean 'ring'?"),
        BadInput("wl-collective-chunk-too-large.yaml", 4, 69, "'collective.chunk' is out of range"),
        BadInput("wl-collective-size-without-unit.yaml", 4, 45, "has no unit"),
        BadInput("hw-cluster-too-many-gpus.yaml", 6, 16, "the cluster has too many GPUs to simulate"),
        BadInput("hw-cluster-leaves-not-dividing.yaml", 7, 82, "the fat-tree's leaves do not divide the nodes"),
        BadInput("hw-unknown-key.yaml", 6, 1, "unknown key 'voltage'"),
        BadInput("hw-clock-in-megabytes.yaml", 5, 8, "'MB' is a size unit"),
        BadInput("hw-missing-compute.yaml", 2, 1, "missing the key 'compute'"),
        BadInput("hw-compute-not-list.yaml", 6, 10, "'compute' must be a list of components"),
        BadInput("hw-empty-compute.yaml", 6, 10, "'compute' is empty"),
        // hardware: components
        BadInput("hw-component-not-mapping.yaml", 7, 5, "a compute component must be a mapping"),
        BadInput("hw-unknown-component-kind.yaml", 7, 25, "unknown compute kind"),
        BadInput("hw-memory-kind-under-compute.yaml", 8, 23, "'sram' is a memory kind"),
        BadInput("hw-duplicate-component-name.yaml", 10, 5, "duplicate component name 'buf'"),
        BadInput("hw-misspelt-key.yaml", 7, 51, "did you mean 'cols'?"),
        BadInput("hw-missing-component-param.yaml", 7, 5, "is missing the key 'cols'"),
        BadInput("hw-rows-not-integer.yaml", 7, 47, "'rows' must be an integer"),
        BadInput("hw-rows-is-list.yaml", 7, 47, "found a list"),
        BadInput("hw-zero-rows.yaml", 7, 47, "'rows' is out of range"),
        BadInput("hw-unknown-dataflow.yaml", 7, 71, "unknown value 'row-stationary'"),
        // hardware: quantities
        BadInput("hw-negative-size.yaml", 9, 35, "'size' must be positive"),
        BadInput("hw-size-without-unit.yaml", 9, 35, "'size' has no unit"),
        BadInput("hw-quantity-not-a-number.yaml", 9, 35, "is not a quantity"),
        BadInput("hw-bandwidth-in-ghz.yaml", 9, 41, "'GHz' is a frequency unit"),
        BadInput("hw-unknown-unit.yaml", 9, 61, "unknown unit 'parsecs'"),
        BadInput("hw-negative-latency.yaml", 9, 61, "'latency' must be zero or positive"),
        // extends
        BadInput("hw-extends-cycle-a.yaml", 3, 10, "'extends' cycle", in: "hw-extends-cycle-b.yaml"),
        BadInput("hw-extends-cycle-b.yaml", 3, 10, "'extends' cycle", in: "hw-extends-cycle-a.yaml"),
        BadInput("hw-extends-self.yaml", 3, 10, "'extends' cycle: hw-extends-self.yaml → hw-extends-self.yaml"),
        BadInput("hw-extends-missing-file.yaml", 3, 10, "no-such-base.yaml"),
        BadInput("hw-extends-not-string.yaml", 3, 10, "'extends' must name a file"),
        // workloads: top level
        BadInput("wl-unknown-model.yaml", 4, 8, "did you mean 'resnet50'?"),
        BadInput("wl-model-and-layers.yaml", 6, 3, "'model' and 'layers' cannot both be given"),
        BadInput("wl-no-layers.yaml", 2, 1, "the workload names no layers"),
        BadInput("wl-batch-zero.yaml", 4, 8, "'batch' is out of range"),
        BadInput("wl-batch-not-integer.yaml", 4, 8, "'batch' must be an integer"),
        BadInput("wl-phase-unknown.yaml", 5, 8, "unknown phase"),
        // N:M sparsity
        BadInput("wl-sparsity-n-greater-than-m.yaml", 6, 21, "keeps more weights than its group has (N > M)"),
        BadInput("wl-sparsity-not-a-pattern.yaml", 7, 12, "is not an N:M pattern"),
        BadInput("wl-sparsity-layer-without-weights.yaml", 12, 12, "layer 'act' has no weights to prune"),
        BadInput("wl-sparsity-unknown-layer.yaml", 10, 12, "names an unknown layer 'fc3'"),
        BadInput("wl-sparsity-unknown-scheme.yaml", 6, 36, "unknown sparsity scheme"),
        BadInput("wl-sparsity-groups-do-not-divide.yaml", 11, 17, "groups do not divide its reduction dimension"),
        BadInput("hw-nm-pattern-n-greater-than-m.yaml", 7, 79, "keeps more weights than its group has (N > M)"),
        BadInput("hw-sat-without-vector-unit.yaml", 2, 1, "needs a 'vector-unit' compute unit"),
        BadInput("hw-optimizations-not-bool.yaml", 11, 29, "must be true or false"),
        BadInput("hw-energy-unknown-action.yaml", 10, 10, "unknown energy action 'dram.reed'"),
        BadInput("wl-continual-fraction-out-of-range.yaml", 6, 62, "'continual.data_removal' is out of range"),
        BadInput("wl-continual-inference.yaml", 5, 12, "'continual' learning trains"),
        // Edge SoCs
        BadInput("hw-edge-operating-point-not-in-table.yaml", 9, 18, "'operating_point' is not in the table"),
        BadInput("hw-edge-budget-below-static.yaml", 6, 32, "the power budget is not above the static power"),
        BadInput("hw-edge-points-out-of-order.yaml", 8, 5, "operating points must be listed fastest first"),
        BadInput("hw-edge-voltage-without-unit.yaml", 7, 33, "'voltage' has no unit"),
        BadInput("hw-edge-placement-unknown-unit.yaml", 6, 18, "names no compute unit of this hardware"),
        BadInput("wl-unknown-phase.yaml", 5, 8, "unknown phase"),
        BadInput("wl-unknown-precision.yaml", 5, 12, "unknown precision"),
        BadInput("wl-sequence-with-layers.yaml", 4, 11, "'sequence' applies only to a zoo 'model'"),
        BadInput("wl-sequence-zero.yaml", 5, 11, "'sequence' is out of range"),
        BadInput("wl-layers-not-list.yaml", 5, 3, "'layers' must be a list"),
        BadInput("wl-empty-layers.yaml", 4, 9, "'layers' is empty"),
        // workloads: layers
        BadInput("wl-unknown-op.yaml", 5, 20, "did you mean 'conv2d'?"),
        BadInput("wl-missing-op.yaml", 5, 5, "missing the key 'op'"),
        BadInput("wl-misspelt-layer-key.yaml", 5, 46, "did you mean 'kernel'?"),
        BadInput("wl-unknown-layer-key.yaml", 5, 75, "unknown key 'dilation'"),
        BadInput("wl-duplicate-layer-names.yaml", 6, 5, "duplicate layer name 'fc'"),
        BadInput("wl-kernel-larger-than-input.yaml", 5, 5, "the kernel is larger than the padded input"),
        BadInput("wl-pool-window-too-large.yaml", 5, 5, "the window is larger than the padded input"),
        BadInput("wl-groups-not-dividing.yaml", 5, 5, "'groups' must divide both the channels and the filters"),
        BadInput("wl-input-two-dims.yaml", 5, 35, "found a list of 2 values"),
        BadInput("wl-negative-gemm-size.yaml", 5, 42, "'k' is out of range"),
        // workloads: LLM serving
        BadInput("wl-serving-unknown-mode.yaml", 6, 9, "did you mean 'disaggregated'?"),
        BadInput("wl-serving-tp-not-dividing-gpus.yaml", 7, 28, "the tensor-parallel degree does not divide the GPUs"),
        BadInput("wl-serving-missing-requests.yaml", 6, 3, "'serving' is missing the key 'requests'"),
        BadInput("wl-serving-request-beyond-context.yaml", 11, 7, "a request is longer than the model's context"),
        BadInput("wl-serving-rate-not-a-rate.yaml", 9, 20, "'requests.rate' is not a rate"),
        BadInput("wl-serving-colocated-with-prefill.yaml", 8, 12, "a colocated deployment runs both phases on the same instances"),
        BadInput("wl-serving-slo-without-unit.yaml", 8, 29, "'slo.tpot' has no unit"),
        BadInput("wl-serving-in-training.yaml", 6, 3, "'serving' serves a transformer's inference"),
    ]
}

/// The directory of malformed fixtures inside the test bundle.
private func badDirectory() throws -> URL {
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "no Fixtures in the test bundle")
    return fixtures.appendingPathComponent("bad")
}

/// Loads a file the way `tessera validate` does: as hardware when it has a top-level `kind`,
/// otherwise as a workload.
private func loadLikeValidate(_ path: String) throws(InputError) {
    let node = try SpecFile.load(path: path)
    if SpecFile.isHardware(node) {
        _ = try KindTable.hardwareLoader.load(path: path)
    } else {
        _ = try WorkloadLoader.load(path: path)
    }
}

@Suite struct BadInputTests {
    @Test(arguments: BadInputTable.cases)
    func rejectedWithLocation(_ bad: BadInput) throws {
        let path = try badDirectory().appendingPathComponent(bad.file).path
        let error: InputError
        do {
            try loadLikeValidate(path)
            Issue.record("\(bad.file) loaded without an error")
            return
        } catch let e {
            error = e
        }
        #expect(!error.diagnostics.isEmpty)
        for d in error.diagnostics {
            #expect(d.severity == .error)
            #expect(d.location != nil, "every diagnostic must have a location: \(d)")
        }
        let matching = error.diagnostics.first { $0.description.contains(bad.message) }
        let d = try #require(matching, "no diagnostic of \(bad.file) contains \"\(bad.message)\"; got:\n\(error)")
        let loc = try #require(d.location)
        #expect(loc.file.hasSuffix("/" + (bad.pointsInto ?? bad.file)), "\(d)")
        #expect(loc.line == bad.line, "\(d)")
        #expect(loc.column == bad.column, "\(d)")
        #expect(d.description.hasPrefix("\(loc.file):\(bad.line):\(bad.column): error: "), "\(d)")
        #expect(d.expected?.isEmpty == false, "no 'expected' in \(d)")
        #expect(d.found?.isEmpty == false, "no 'found' in \(d)")
        #expect(error.description.contains(d.description))
    }

    @Test func everyFixtureIsInTheTable() throws {
        let dir = try badDirectory()
        let onDisk = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") })
        let listed = BadInputTable.cases.map(\.file)
        #expect(Set(listed).count == listed.count, "a fixture is listed twice")
        #expect(onDisk.subtracting(listed).sorted() == [], "fixtures with no row in BadInputTable")
        #expect(Set(listed).subtracting(onDisk).sorted() == [], "rows in BadInputTable with no fixture")
        #expect(listed.count >= 34)
    }

    @Test func aMissingFileIsALocatedError() {
        let path = "no/such/dir/hardware.yaml"
        #expect(throws: InputError.self) { try KindTable.hardwareLoader.load(path: path) }
        do {
            _ = try WorkloadLoader.load(path: path)
            Issue.record("a missing file loaded")
        } catch {
            let d = error.diagnostics.first
            #expect(d?.location == SourceLocation(file: path, line: 1, column: 1))
            #expect(d?.found == "no such file")
            #expect(error.description.hasPrefix("\(path):1:1: error: cannot read file '\(path)'"))
        }
    }

    @Test func syntaxErrorsSayWhereTheConstructStarted() throws {
        let path = try badDirectory().appendingPathComponent("wl-syntax-unclosed-quote.yaml").path
        do {
            try loadLikeValidate(path)
            Issue.record("an unclosed quote parsed")
        } catch {
            let d = try #require(error.diagnostics.first)
            #expect(d.expected == "the closing quote")
            #expect(d.found == "the end of the file")
            #expect(d.hint?.contains("\(path):3:7") == true, "\(d)")
        }
    }

    @Test func anAnchorWithoutAnAliasIsAccepted() throws {
        let text = """
            tessera: 1
            name: anchored
            kind: array
            clock: &clk 1 GHz
            compute:
              - {name: array, kind: systolic-array, rows: 4, cols: 4}
            """
        let hw = try KindTable.hardwareLoader.parse(text, file: "anchored.yaml")
        #expect(hw.clock.hertz == 1e9)
    }

    @Test func aDuplicateKeyNamesBothPlaces() throws {
        let text = "tessera: 1\nname: a\nname: b\nmodel: resnet18\n"
        do {
            _ = try WorkloadLoader.parse(text, file: "dup.yaml")
            Issue.record("a duplicate key parsed")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(
                error.description
                    == "dup.yaml:3:1: error: duplicate key 'name' (expected each key once per mapping, found 'name' a second time); "
                    + "first given at dup.yaml:2:1")
        }
    }
}
