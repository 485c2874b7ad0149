import TesseraCore

/// A validated hardware description: a named accelerator of one `kind` with its components.
public struct HardwareSpec: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var clock: Frequency
    public var compute: [ComponentSpec]
    public var memory: [ComponentSpec]
    public var file: String
    /// The dataflow optimizations of a `sparse-training-array` (all on by default).
    public var optimizations: Optimizations
    /// Overrides of the energy table: action name → joules per occurrence (per byte for memories).
    public var energy: [String: Double] = [:]
    /// Operating points, power budget and placement of an `edge-soc`.
    public var edge: EdgeSpec? = nil
    /// The GPUs, nodes and fabrics of a `gpu-cluster`.
    public var cluster: ClusterSpec? = nil

    public init(
        name: String, kind: String, clock: Frequency, compute: [ComponentSpec], memory: [ComponentSpec], file: String,
        optimizations: Optimizations = Optimizations()
    ) {
        self.name = name
        self.kind = kind
        self.clock = clock
        self.compute = compute
        self.memory = memory
        self.file = file
        self.optimizations = optimizations
    }

    public var components: [ComponentSpec] { compute + memory }
}

/// Reads a spec file and resolves its `extends:` chain, without validating it against a schema.
public enum SpecFile {
    public static func load(path: String) throws(InputError) -> SpecNode {
        try Extends.resolve(try YAMLReader.load(path: path), file: path)
    }
    /// True when the file describes hardware (it has a top-level `kind`), false for a workload.
    public static func isHardware(_ node: SpecNode) -> Bool { node["kind"] != nil }
}

/// Hardware kinds this version accepts, with what each means.
public enum HardwareKind {
    public static let supported: [String: String] = [
        "array": "a dense accelerator: systolic arrays, SRAM buffers and DRAM",
        "sparse-training-array": "an N:M sparse training accelerator (SAT-style): an nm-sparse-array, a vector unit, a mask generator, SRAM and DRAM",
        "edge-soc": "an edge SoC: an NPU (systolic or N:M sparse array), CPU cores, a vector unit/DSP, scratchpads and shared LPDDR, with DVFS and a power budget",
        "gpu-cluster": "GPUs (a preset such as h100-sxm) in nodes joined by an intra-node fabric (NVSwitch or NVLink) and an inter-node network; runs collective microbenchmarks, transformer training steps and LLM serving",
    ]
    /// Kinds named by the design that a later version will accept.
    public static let planned: [String] = []
    /// The accepted kinds, sorted, for messages.
    static var expected: String { supported.keys.sorted().map { "'\($0)'" }.joined(separator: " or ") }
}

/// Parses, validates and builds a `HardwareSpec` from YAML. The component kinds it accepts are
/// given by the caller (TesseraModel's kind table), so each kind is declared in one place.
public struct HardwareLoader: Sendable {
    public var schemas: [ComponentSchema]
    /// The names an `energy:` section may set.
    public var energyActions: [String]
    /// The GPU presets a `gpu-cluster` may name.
    public var gpuPresets: [String]

    public init(schemas: [ComponentSchema], energyActions: [String] = [], gpuPresets: [String] = []) {
        self.schemas = schemas
        self.energyActions = energyActions
        self.gpuPresets = gpuPresets
    }

    public func load(path: String) throws(InputError) -> HardwareSpec {
        let raw = try YAMLReader.load(path: path)
        let node = try Extends.resolve(raw, file: path)
        return try build(node, file: path)
    }

    public func parse(_ text: String, file: String) throws(InputError) -> HardwareSpec {
        let raw = try YAMLReader.parse(text, file: file)
        let node = try Extends.resolve(raw, file: file)
        return try build(node, file: file)
    }

    func build(_ node: SpecNode, file: String) throws(InputError) -> HardwareSpec {
        var bag = DiagnosticBag()
        guard var r = MappingReader(node, what: "a hardware file", bag: &bag) else { throw InputError(bag.diagnostics) }
        Header.check(&r, bag: &bag)
        _ = r.optional("description")
        let name = r.required("name", expected: "a name", bag: &bag).flatMap { Scalar.fileName($0, what: "'name'", bag: &bag) }
        var kind = "array"
        if let k = r.required("kind", expected: HardwareKind.expected, bag: &bag) {
            let s = k.scalar ?? ""
            if HardwareKind.supported[s] != nil {
                kind = s
            } else if HardwareKind.planned.contains(s) {
                bag.error(k.location, "hardware kind '\(s)' is not supported by this version", expected: HardwareKind.expected, found: "'\(s)'")
            } else {
                bag.error(
                    k.location, "unknown hardware kind", expected: HardwareKind.expected, found: k.kindDescription,
                    hint: closestMatch(to: s, in: Array(HardwareKind.supported.keys) + HardwareKind.planned).map { "did you mean '\($0)'?" })
            }
        }
        if kind == "gpu-cluster" {
            let cluster = ClusterReader.read(&r, gpuPresets: gpuPresets, bag: &bag)
            r.finish(bag: &bag)
            try bag.throwIfErrors()
            var spec = HardwareSpec(name: name ?? "", kind: kind, clock: Frequency(hertz: 1e9), compute: [], memory: [], file: file)
            spec.cluster = cluster
            return spec
        }
        var clock = Frequency(hertz: 1e9)
        if let c = r.required("clock", expected: QuantityDimension.frequency.example, bag: &bag),
            case .number(let hz)? = Scalar.quantity(c, .frequency, what: "'clock'", bag: &bag)
        {
            clock = Frequency(hertz: hz)
        }
        let compute = components(r.required("compute", expected: "a list of compute units", bag: &bag), role: .compute, bag: &bag)
        let memory = components(r.optional("memory"), role: .memory, bag: &bag)
        var energy: [String: Double] = [:]
        if let e = r.optional("energy") { energy = readEnergy(e, bag: &bag) }
        let pointsNode = r.optional("operating_points"), startNode = r.optional("operating_point")
        let powerNode = r.optional("power"), placementNode = r.optional("placement")
        var edge: EdgeSpec?
        if kind == "edge-soc" {
            edge = EdgeSpec.read(
                points: pointsNode, start: startNode, power: powerNode, placement: placementNode, clock: clock, at: node.location,
                computeNames: compute.map(\.name), bag: &bag)
        } else {
            for n in [pointsNode, startNode, powerNode, placementNode].compactMap({ $0 }) {
                bag.error(n.location, "operating points, 'power' and 'placement' apply only to an 'edge-soc'", expected: "no such section on kind '\(kind)'", found: n.kindDescription)
            }
        }
        var optimizations = Optimizations()
        if let o = r.optional("optimizations") {
            if kind == "sparse-training-array" {
                optimizations = Optimizations.read(o, bag: &bag)
            } else {
                bag.error(o.location, "'optimizations' applies only to a 'sparse-training-array'", expected: "no 'optimizations' on kind '\(kind)'", found: "'optimizations'")
            }
        }
        r.finish(bag: &bag)

        var names: [String: SourceLocation] = [:]
        for c in compute + memory {
            if let first = names[c.name] {
                bag.error(
                    c.location, "duplicate component name '\(c.name)'", expected: "unique names", found: "'\(c.name)' a second time",
                    hint: "first used at \(first)")
            }
            names[c.name] = c.location
        }
        if !compute.isEmpty, !compute.contains(where: { $0.kind == "systolic-array" }), kind == "array" {
            bag.error(node.location, "an 'array' hardware needs a 'systolic-array' compute unit", expected: "a compute entry with kind: systolic-array",
                found: compute.map { "'\($0.kind)'" }.joined(separator: ", "))
        }
        // (A unit that failed to parse has its own error; do not also report it missing.)
        if kind == "sparse-training-array", !compute.isEmpty, !bag.hasErrors {
            for required in ["nm-sparse-array", "vector-unit"] where !compute.contains(where: { $0.kind == required }) {
                bag.error(
                    node.location, "a 'sparse-training-array' needs a '\(required)' compute unit", expected: "a compute entry with kind: \(required)",
                    found: compute.map { "'\($0.kind)'" }.joined(separator: ", "))
            }
            for c in compute where c.kind == "systolic-array" {
                bag.error(c.location, "a 'sparse-training-array' runs its products on an 'nm-sparse-array'", expected: "kind: nm-sparse-array", found: "'systolic-array'")
            }
        }
        if kind == "edge-soc", !bag.hasErrors {
            let staticTotal = (edge?.staticPower ?? 0) + (compute + memory).reduce(0) { $0 + ($1.number("static_power") ?? 0) }
            if let budget = edge?.budget, budget <= staticTotal {
                bag.error(
                    edge?.budgetLocation ?? node.location, "the power budget is not above the static power", expected: "a budget above \(formatDecimal(staticTotal)) W (static power of the chip and its components)",
                    found: "\(formatDecimal(budget)) W")
            }
            for c in compute where c.kind == "mask-generator" {
                bag.error(c.location, "an 'edge-soc' has no mask generator", expected: "an NPU, CPU cores or a vector unit", found: "'mask-generator'")
            }
        }
        if kind == "sparse-training-array" {
            for c in compute where c.kind == "cpu-cluster" {
                bag.error(c.location, "a 'sparse-training-array' has no CPU cores", expected: "an nm-sparse-array, a vector unit and a mask generator", found: "'cpu-cluster'")
            }
        }
        if kind == "array" {
            for c in compute where c.kind != "systolic-array" {
                bag.error(c.location, "an 'array' hardware has only systolic arrays", expected: "kind: systolic-array", found: "'\(c.kind)'",
                    hint: "use kind: sparse-training-array for N:M sparse arrays, vector units and mask generators")
            }
        }
        if kind != "edge-soc" {
            // Weights streamed from host memory are modelled for edge SoCs (EdgeMapper places them).
            for m in memory where m.kind == "host-link" {
                bag.error(m.location, "a 'host-link' streams weights on an 'edge-soc' only", expected: "no host-link on kind '\(kind)'", found: "'\(m.name)' (host-link)")
            }
        }
        var links = memory.filter { $0.kind == "host-link" }
        if links.count > 1 {
            links.removeFirst()
            for m in links { bag.error(m.location, "an edge SoC has one host link", expected: "one memory entry of kind host-link", found: "'\(m.name)' as a second one") }
        }
        try bag.throwIfErrors()
        var spec = HardwareSpec(name: name ?? "", kind: kind, clock: clock, compute: compute, memory: memory, file: file, optimizations: optimizations)
        spec.energy = energy
        spec.edge = edge
        return spec
    }

    /// `energy: {mac.int8: 0.2 pJ, dram.read: 32 pJ, …}`: overrides of the energy table.
    private func readEnergy(_ node: SpecNode, bag: inout DiagnosticBag) -> [String: Double] {
        guard let entries = node.entries else {
            bag.error(node.location, "'energy' must be a mapping", expected: "'action: energy' lines such as 'mac.int8: 0.2 pJ'", found: node.kindDescription)
            return [:]
        }
        var out: [String: Double] = [:]
        for e in entries {
            guard energyActions.contains(e.key) else {
                bag.error(
                    e.keyLocation, "unknown energy action '\(e.key)'", expected: "one of " + energyActions.map { "'\($0)'" }.joined(separator: ", "),
                    found: "'\(e.key)'", hint: closestMatch(to: e.key, in: energyActions).map { "did you mean '\($0)'?" })
                continue
            }
            if case .number(let j)? = Scalar.quantity(e.value, .energy, what: "'energy.\(e.key)'", allowZero: true, bag: &bag) { out[e.key] = j }
        }
        return out
    }

    private func components(_ node: SpecNode?, role: ComponentRole, bag: inout DiagnosticBag) -> [ComponentSpec] {
        guard let node else { return [] }
        guard let items = node.items else {
            bag.error(node.location, "'\(role.rawValue)' must be a list of components", expected: "a list of '{name: …, kind: …}' entries", found: node.kindDescription)
            return []
        }
        if items.isEmpty, role == .compute {
            bag.error(node.location, "'compute' is empty", expected: "at least one compute unit", found: "an empty list")
        }
        return items.compactMap { component($0, role: role, bag: &bag) }
    }

    private func component(_ node: SpecNode, role: ComponentRole, bag: inout DiagnosticBag) -> ComponentSpec? {
        guard var r = MappingReader(node, what: "a \(role.rawValue) component", bag: &bag) else { return nil }
        let name = r.required("name", expected: "a name", bag: &bag).flatMap { Scalar.string($0, what: "'name'", bag: &bag) }
        guard let kindNode = r.required("kind", expected: "a component kind", bag: &bag) else {
            r.finish(allowed: (node.entries ?? []).map(\.key), bag: &bag)
            return nil
        }
        let kinds = schemas.filter { $0.role == role }
        guard let kindName = kindNode.scalar, let schema = kinds.first(where: { $0.kind == kindName }) else {
            let s = kindNode.scalar ?? ""
            let other = schemas.first { $0.kind == s }
            bag.error(
                kindNode.location,
                other != nil ? "'\(s)' is a \(other?.role.rawValue ?? "") kind and cannot be listed under '\(role.rawValue)'" : "unknown \(role.rawValue) kind",
                expected: "one of " + kinds.map { "'\($0.kind)'" }.joined(separator: ", "), found: kindNode.kindDescription,
                hint: closestMatch(to: s, in: kinds.map(\.kind)).map { "did you mean '\($0)'?" })
            return nil
        }
        let what = "\(schema.kind) '\(name ?? "?")'"
        var params: [String: ParamValue] = [:]
        var ok = true
        for decl in schema.parameters {
            if let v = r.optional(decl.name) {
                if let value = Scalar.param(v, decl, what: what, bag: &bag) { params[decl.name] = value } else { ok = false }
            } else if let d = decl.defaultValue {
                params[decl.name] = d
            } else {
                bag.error(node.location, "\(what) is missing the key '\(decl.name)'", expected: "'\(decl.name)': \(decl.type.summary)", found: "no '\(decl.name)'")
                ok = false
            }
        }
        r.finish(bag: &bag)
        guard ok, let name else { return nil }
        return ComponentSpec(name: name, kind: schema.kind, role: role, params: params, location: node.location)
    }
}
