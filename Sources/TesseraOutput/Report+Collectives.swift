import TesseraCore

extension Report {
    /// One message size of a collective microbenchmark, with nccl-tests' figures: algbw = S/t and
    /// busbw = algbw × the op's factor (nccl-tests doc/PERFORMANCE.md); GB/s are 10⁹ bytes per second.
    public struct Collective: Sendable {
        public var op: String
        public var algorithm: String
        public var ranks: Int
        public var bytes: UInt64
        public var seconds: Double
        public var algbwGBps: Double
        public var busbwGBps: Double
        /// The NCCL protocol it ran with (`nccl_protocol`), nil under the fabric model.
        public var ncclProtocol: String?

        /// The algorithm, and the protocol where there is one ("ring with LL").
        public var algorithmAndProtocol: String { ncclProtocol.map { "\(algorithm) with \($0)" } ?? algorithm }

        var json: JSONValue {
            var pairs: [(String, JSONValue)] = [("op", .string(op)), ("algorithm", .string(algorithm))]
            if let p = ncclProtocol { pairs.append(("protocol", .string(p))) }
            pairs += [
                ("ranks", .int(Int64(ranks))), ("bytes", .uint(bytes)), ("seconds", .double(seconds)), ("algbw_gbps", .double(algbwGBps)),
                ("busbw_gbps", .double(busbwGBps)),
            ]
            return .object(pairs)
        }

        public init(op: String, algorithm: String, ranks: Int, bytes: UInt64, seconds: Double, algbwGBps: Double, busbwGBps: Double, ncclProtocol: String? = nil) {
            self.ncclProtocol = ncclProtocol
            self.op = op
            self.algorithm = algorithm
            self.ranks = ranks
            self.bytes = bytes
            self.seconds = seconds
            self.algbwGBps = algbwGBps
            self.busbwGBps = busbwGBps
        }
    }

    /// The faults a microbenchmark ran with, and the link its late messages share.
    public struct CollectiveFindings: Sendable {
        public var faults: [(component: String, effect: String)]
        public var slowestLink: (name: String, slowed: Int, messages: Int)?

        var pairs: [(String, JSONValue)] {
            var out: [(String, JSONValue)] = [("faults", .array(faults.map { .object([("component", .string($0.component)), ("effect", .string($0.effect))]) }))]
            if let l = slowestLink {
                out.append(("slowest_link", .object([("name", .string(l.name)), ("slowed_messages", .int(Int64(l.slowed))), ("messages", .int(Int64(l.messages)))])))
            }
            return out
        }

        var line: String {
            "faults: " + faults.map { "\($0.component) \($0.effect)" }.joined(separator: ", ")
                + (slowestLink.map { "; slowest link: \($0.name) (\($0.slowed) of \($0.messages) messages late)" } ?? "; no message was late")
        }

        public init(faults: [(component: String, effect: String)], slowestLink: (name: String, slowed: Int, messages: Int)?) {
            self.faults = faults
            self.slowestLink = slowestLink
        }
    }

    /// One CSV row per message size.
    func collectivesCSV() -> String {
        // A protocol column only under NCCL's protocols, so that the fabric model's CSV keeps its columns.
        let protocols = collectives.contains { $0.ncclProtocol != nil }
        var s = "op,algorithm,ranks,bytes,seconds,algbw_gbps,busbw_gbps" + (protocols ? ",protocol\n" : "\n")
        for c in collectives {
            let row = [c.op, c.algorithm, "\(c.ranks)", "\(c.bytes)", JSONValue.number(c.seconds), JSONValue.number(c.algbwGBps), JSONValue.number(c.busbwGBps)]
            s += (row + (protocols ? [c.ncclProtocol ?? ""] : [])).joined(separator: ",") + "\n"
        }
        return s
    }

    /// The Markdown table of a collective microbenchmark (empty for other runs).
    func collectivesMarkdown() -> String {
        guard !collectives.isEmpty else { return "" }
        var s = "\n## Collectives\n\n| op | algorithm | ranks | bytes | time | algbw | busbw |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
        for c in collectives {
            s += "| \(c.op) | \(c.algorithmAndProtocol) | \(c.ranks) | \(c.bytes) | \(formatDecimal(c.seconds * 1e6, maxDecimals: 3)) us | \(formatDecimal(c.algbwGBps, maxDecimals: 3)) GB/s | \(formatDecimal(c.busbwGBps, maxDecimals: 3)) GB/s |\n"
        }
        return s
    }
}
