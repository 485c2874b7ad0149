import Foundation
import TesseraCore

/// LLM inference served to a stream of requests on groups of GPUs, each request a prefill of its
/// prompt and a decode of its output one token at a time (DistServe: Zhong et al. 2024,
/// "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large Language Model
/// Serving", OSDI).
///
/// Colocated: every instance runs both phases. Disaggregated: prefill instances hand each
/// request's KV cache to a decode instance, so the two phases never share a GPU.
public struct ServingSpec: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable { case colocated, disaggregated }

    /// GPUs of one role, split into instances of `tp` tensor-parallel GPUs each.
    public struct Group: Sendable, Hashable {
        public enum Role: String, Sendable, Hashable { case both, prefill, decode }
        public var role: Role
        public var gpus: Int
        public var tp: Int
        public var location: SourceLocation
        public var instances: Int { gpus / tp }
        public init(role: Role, gpus: Int, tp: Int, location: SourceLocation) {
            self.role = role
            self.gpus = gpus
            self.tp = tp
            self.location = location
        }
    }

    /// One request: its arrival (seconds from the start), its prompt tokens and the tokens it
    /// generates (the first of which the prefill produces).
    public struct Request: Sendable, Hashable {
        public var arrival: Double
        public var prompt: Int
        public var output: Int
        public init(arrival: Double, prompt: Int, output: Int) {
            self.arrival = arrival
            self.prompt = prompt
            self.output = output
        }
    }

    /// Where the requests came from.
    public enum Arrivals: Sendable, Hashable {
        /// Poisson arrivals at `rate` requests per second, drawn with SplitMix64 from `seed`.
        case poisson(rate: Double, seed: UInt64)
        /// An explicit list.
        case trace
    }

    public var transformer: TransformerSpec
    public var mode: Mode
    /// Colocated: one group of role `both`; disaggregated: a `prefill` and a `decode` group.
    public var groups: [Group]
    /// Most requests in one instance's running batch (vLLM's max_num_seqs, default 256).
    public var maxBatch: Int
    /// Most prompt tokens in one prefill batch (vLLM's max_num_batched_tokens); default the
    /// model's context length. A batch always takes at least one prompt.
    public var maxPrefillTokens: Int
    /// Service-level objectives: time to first token and time per output token, seconds.
    public var ttftSLO: Double
    public var tpotSLO: Double
    /// The share of requests that must meet both objectives (`slo.attainment`, DistServe's
    /// "SLO attainment" goal, e.g. 90%); `nil` asks for no verdict.
    public var attainmentTarget: Double? = nil
    public var arrivals: Arrivals
    /// Sorted by arrival.
    public var requests: [Request]
    public var location: SourceLocation
    public var transformerLocation: SourceLocation

    /// GPUs the groups occupy (ranks 0 ..< gpus, groups in order).
    public var gpus: Int { groups.reduce(0) { $0 + $1.gpus } }

    /// The reference request: the trace's mean prompt and mean output, rounded (at least 1 each).
    /// The report's idle-instance prefill and decode step and the elaborated graph both use it.
    public var meanRequest: (prompt: Int, output: Int) {
        let n = Double(max(1, requests.count))
        func mean(_ total: Int) -> Int { max(1, Int((Double(total) / n).rounded())) }
        return (mean(requests.reduce(0) { $0 + $1.prompt }), mean(requests.reduce(0) { $0 + $1.output }))
    }

    /// Poisson arrivals: exponential gaps −ln(1 − u)/rate with u from SplitMix64 (Steele, Lea and
    /// Flood 2014, "Fast splittable pseudorandom number generators"; 53-bit uniforms), the first
    /// request one gap after time zero. The same seed gives the same arrivals on every platform.
    public static func poissonArrivals(rate: Double, count: Int, seed: UInt64) -> [Double] {
        var state = seed
        var t = 0.0
        var out: [Double] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let u = Double(z >> 11) * 0x1.0p-53
            t += -log1p(-u) / rate
            out.append(t)
        }
        return out
    }
}

/// Reads the `serving:` section of an inference workload.
enum ServingReader {
    static let maxRequests = 1_000_000
    /// Latest arrival, seconds (the engine's picosecond clock holds about 2·10⁷ s).
    static let maxArrival = 1e6

    static func read(_ node: SpecNode, transformer: TransformerSpec?, bag: inout DiagnosticBag) -> ServingSpec? {
        guard var r = MappingReader(node, what: "'serving'", bag: &bag) else { return nil }
        let modes = ServingSpec.Mode.allCases.map(\.rawValue)
        var mode: ServingSpec.Mode?
        if let m = r.required("mode", expected: "'colocated' or 'disaggregated'", bag: &bag) {
            if let v = m.scalar.flatMap(ServingSpec.Mode.init(rawValue:)) {
                mode = v
            } else {
                bag.error(m.location, "unknown serving mode", expected: "'colocated' or 'disaggregated'", found: m.kindDescription,
                    hint: closestMatch(to: m.scalar ?? "", in: modes).map { "did you mean '\($0)'?" })
            }
        }
        let instancesNode = r.optional("instances"), prefillNode = r.optional("prefill"), decodeNode = r.optional("decode")
        var groups: [ServingSpec.Group] = []
        switch mode {
        case .colocated?:
            for n in [prefillNode, decodeNode].compactMap({ $0 }) {
                bag.error(n.location, "a colocated deployment runs both phases on the same instances", expected: "'instances: {gpus, tp}' with mode: colocated", found: "'prefill' or 'decode' groups")
            }
            if let n = instancesNode {
                if let g = group(n, role: .both, what: "'serving.instances'", transformer: transformer, bag: &bag) { groups = [g] }
            } else {
                bag.error(node.location, "'serving' is missing the key 'instances'", expected: "'instances': {gpus: <n>, tp: <t>} with mode: colocated", found: "no 'instances'")
            }
        case .disaggregated?:
            if let n = instancesNode {
                bag.error(n.location, "a disaggregated deployment has separate prefill and decode groups", expected: "'prefill: {gpus, tp}' and 'decode: {gpus, tp}'", found: "'instances'")
            }
            for (key, role) in [("prefill", ServingSpec.Group.Role.prefill), ("decode", .decode)] {
                if let n = key == "prefill" ? prefillNode : decodeNode {
                    if let g = group(n, role: role, what: "'serving.\(key)'", transformer: transformer, bag: &bag) { groups.append(g) }
                } else {
                    bag.error(node.location, "'serving' is missing the key '\(key)'", expected: "'\(key)': {gpus: <n>, tp: <t>} with mode: disaggregated", found: "no '\(key)'")
                }
            }
        case nil: break
        }
        let maxBatch = r.optional("max_batch").flatMap { Scalar.int($0, min: 1, what: "'serving.max_batch'", bag: &bag) } ?? 256
        let maxPrefill = r.optional("max_prefill_tokens").flatMap { Scalar.int($0, min: 1, what: "'serving.max_prefill_tokens'", bag: &bag) }
        var ttft: Double?, tpot: Double?, target: Double?
        if let s = r.required("slo", expected: "{ttft: <time>, tpot: <time>}, such as {ttft: 400 ms, tpot: 40 ms}", bag: &bag), var sr = MappingReader(s, what: "'serving.slo'", bag: &bag) {
            for key in ["ttft", "tpot"] {
                if let n = sr.required(key, expected: "a time such as '400 ms'", bag: &bag), case .number(let v)? = Scalar.quantity(n, .time, what: "'slo.\(key)'", bag: &bag) {
                    if key == "ttft" { ttft = v } else { tpot = v }
                }
            }
            if let a = sr.optional("attainment") {
                // A share of requests: 90% or 0.9.
                if let text = a.scalar, text.hasSuffix("%"), let v = Double(text.dropLast().trimmingCharacters(in: .whitespaces)), v > 0, v <= 100 {
                    target = v / 100
                } else if let text = a.scalar, !text.hasSuffix("%") {
                    target = Scalar.number(a, min: 0, max: 1, what: "'slo.attainment'", bag: &bag)
                    if target == 0 { target = nil }
                } else {
                    bag.error(a.location, "'slo.attainment' is not a share of requests", expected: "a percentage such as 90% (or 0.9)", found: a.kindDescription)
                }
            }
            sr.finish(bag: &bag)
        }
        var requests: [ServingSpec.Request] = []
        var arrivals = ServingSpec.Arrivals.trace
        if let q = r.required("requests", expected: "{rate: 4/s, count: 200, prompt: 1024, output: 128} or a list of {at, prompt, output}", bag: &bag) {
            if let read = self.requests(q, transformer: transformer, bag: &bag) { (arrivals, requests) = read }
        }
        r.finish(bag: &bag)
        guard let mode, let ttft, let tpot, let transformer, !groups.isEmpty, !requests.isEmpty else { return nil }
        if mode == .disaggregated, groups.count != 2 { return nil }
        var spec = ServingSpec(
            transformer: transformer, mode: mode, groups: groups, maxBatch: maxBatch, maxPrefillTokens: maxPrefill ?? transformer.seqLen, ttftSLO: ttft, tpotSLO: tpot,
            arrivals: arrivals, requests: requests, location: node.location, transformerLocation: node.location)
        spec.attainmentTarget = target
        return spec
    }

    /// `{gpus: n, tp: t}`: t must divide n and the model's attention heads.
    static func group(_ node: SpecNode, role: ServingSpec.Group.Role, what: String, transformer: TransformerSpec?, bag: inout DiagnosticBag) -> ServingSpec.Group? {
        guard var r = MappingReader(node, what: what, bag: &bag) else { return nil }
        let gpusNode = r.required("gpus", expected: "an integer ≥ 1", bag: &bag)
        let gpus = gpusNode.flatMap { Scalar.int($0, min: 1, what: "\(what).gpus", bag: &bag) }
        let tpNode = r.optional("tp")
        let tp = tpNode.flatMap { Scalar.int($0, min: 1, what: "\(what).tp", bag: &bag) } ?? (tpNode == nil ? 1 : nil)
        r.finish(bag: &bag)
        guard let gpus, let tp else { return nil }
        if gpus % tp != 0 {
            bag.error(tpNode?.location ?? node.location, "the tensor-parallel degree does not divide the GPUs of \(what)", expected: "tp dividing gpus (\(gpus))", found: "tp: \(tp)")
            return nil
        }
        if let t = transformer, t.heads % tp != 0 {
            bag.error(tpNode?.location ?? node.location, "the tensor-parallel degree does not divide the attention heads", expected: "tp dividing heads (\(t.heads) in \(t.name))", found: "tp: \(tp)")
            return nil
        }
        return ServingSpec.Group(role: role, gpus: gpus, tp: tp, location: node.location)
    }

    /// A Poisson mapping or an explicit list of requests.
    static func requests(_ node: SpecNode, transformer: TransformerSpec?, bag: inout DiagnosticBag) -> (ServingSpec.Arrivals, [ServingSpec.Request])? {
        let context = transformer?.seqLen ?? Int.max
        func checkHorizon(_ last: Double, at location: SourceLocation) -> Bool {
            guard last <= maxArrival else {
                bag.error(location, "the requests arrive later than the simulator's clock holds", expected: "arrivals within \(Int(maxArrival)) s", found: "the last at \(formatDecimal(last, maxDecimals: 0)) s")
                return false
            }
            return true
        }
        func checkContext(_ prompt: Int, _ output: Int, at location: SourceLocation) -> Bool {
            guard prompt + output <= context else {
                bag.error(location, "a request is longer than the model's context", expected: "prompt + output ≤ \(context) tokens (seq_len of \(transformer?.name ?? "the model"))", found: "\(prompt) + \(output)")
                return false
            }
            return true
        }
        if let items = node.items {
            guard !items.isEmpty else {
                bag.error(node.location, "'serving.requests' is empty", expected: "at least one {at: <time>, prompt: <tokens>, output: <tokens>}", found: "an empty list")
                return nil
            }
            guard items.count <= maxRequests else {
                bag.error(node.location, "too many requests to simulate", expected: "at most \(maxRequests) requests", found: "\(items.count)")
                return nil
            }
            var out: [ServingSpec.Request] = []
            for item in items {
                guard var r = MappingReader(item, what: "a request", bag: &bag) else { continue }
                var at: Double?
                if let a = r.required("at", expected: "a time such as '0 ms'", bag: &bag), case .number(let v)? = Scalar.quantity(a, .time, what: "a request's 'at'", allowZero: true, bag: &bag) {
                    at = v
                }
                let prompt = r.required("prompt", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "a request's 'prompt'", bag: &bag) }
                let output = r.required("output", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "a request's 'output'", bag: &bag) }
                r.finish(bag: &bag)
                if let at, let prompt, let output, checkContext(prompt, output, at: item.location) { out.append(ServingSpec.Request(arrival: at, prompt: prompt, output: output)) }
            }
            guard out.count == items.count else { return nil }
            // Stable: requests arriving together keep their order in the file.
            let sorted = out.enumerated().sorted { $0.element.arrival != $1.element.arrival ? $0.element.arrival < $1.element.arrival : $0.offset < $1.offset }.map(\.element)
            guard checkHorizon(sorted.last?.arrival ?? 0, at: node.location) else { return nil }
            return (.trace, sorted)
        }
        guard var r = MappingReader(node, what: "'serving.requests'", bag: &bag) else { return nil }
        var rate: Double?
        if let n = r.required("rate", expected: "requests per second such as '4/s'", bag: &bag) {
            rate = self.rate(n, bag: &bag)
        }
        let count = r.required("count", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'requests.count'", bag: &bag) }
        if let c = count, c > maxRequests, let n = node["count"] {
            bag.error(n.location, "too many requests to simulate", expected: "at most \(maxRequests) requests", found: "\(c)")
        }
        let prompt = r.required("prompt", expected: "prompt tokens, an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'requests.prompt'", bag: &bag) }
        let output = r.required("output", expected: "output tokens, an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'requests.output'", bag: &bag) }
        let seed = r.optional("seed").flatMap { Scalar.int($0, min: 0, max: InputLimits.seed, what: "'requests.seed'", bag: &bag) } ?? 1
        r.finish(bag: &bag)
        guard let rate, let count, count <= maxRequests, let prompt, let output, checkContext(prompt, output, at: node.location) else { return nil }
        let times = ServingSpec.poissonArrivals(rate: rate, count: count, seed: UInt64(seed))
        guard checkHorizon(times.last ?? 0, at: node["rate"]?.location ?? node.location) else { return nil }
        return (.poisson(rate: rate, seed: UInt64(seed)), times.map { ServingSpec.Request(arrival: $0, prompt: prompt, output: output) })
    }

    /// `4/s`, `4 /s`, `240/min` or a plain number of requests per second.
    static func rate(_ n: SpecNode, bag: inout DiagnosticBag) -> Double? {
        let expected = "requests per second such as '4/s' (or '/min')"
        guard case .scalar(let s, _) = n.value else {
            bag.error(n.location, "'requests.rate' must be a rate", expected: expected, found: n.kindDescription)
            return nil
        }
        var text = s.replacingOccurrences(of: " ", with: "")
        var scale = 1.0
        if text.hasSuffix("/s") {
            text.removeLast(2)
        } else if text.hasSuffix("/min") {
            text.removeLast(4)
            scale = 1.0 / 60
        }
        guard let v = Double(text), v.isFinite else {
            bag.error(n.location, "'requests.rate' is not a rate", expected: expected, found: "'\(s)'")
            return nil
        }
        guard v > 0 else {
            bag.error(n.location, "'requests.rate' must be positive", expected: expected, found: "'\(s)'")
            return nil
        }
        return v * scale
    }
}
