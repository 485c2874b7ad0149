import TesseraCore

extension Report {
    /// LLM inference served to a request trace on a GPU cluster.
    public struct Serving: Sendable {
        /// Mean and nearest-rank percentiles (the ⌈q·n⌉-th smallest value) of a list of seconds.
        public struct Distribution: Sendable {
            public var mean = 0.0, p50 = 0.0, p90 = 0.0, p99 = 0.0, max = 0.0
            public var count = 0
            /// The distribution itself: the nearest-rank q-quantile for q = 0, 0.01, …, 1 (101 values,
            /// the first the smallest), empty without values.
            public var quantiles: [Double] = []
            public init(_ values: [Double]) {
                guard !values.isEmpty else { return }
                let s = values.sorted()
                func rank(_ q: Double) -> Double { s[Swift.max(0, Swift.min(s.count - 1, Int((q * Double(s.count)).rounded(.up)) - 1))] }
                mean = s.reduce(0, +) / Double(s.count)
                p50 = rank(0.5)
                p90 = rank(0.9)
                p99 = rank(0.99)
                max = s[s.count - 1]
                count = s.count
                // ⌈k·n/100⌉-th smallest, in integers (no rounding of k/100).
                quantiles = (0...100).map { k in s[Swift.max(0, (k * s.count + 99) / 100 - 1)] }
            }
            var json: JSONValue {
                .object([("mean_s", .double(mean)), ("p50_s", .double(p50)), ("p90_s", .double(p90)), ("p99_s", .double(p99)), ("max_s", .double(max)), ("count", .int(Int64(count))),
                    ("quantiles_s", .array(quantiles.map { .double($0) })),
                ])
            }
        }
        public struct Instance: Sendable {
            public var name: String
            public var role: String
            public var ranks: [Int]
            public var tp: Int
            public var prefillSeconds: Double
            public var decodeSeconds: Double
            public var utilization: Double
            public var prefillBatches: Int
            public var decodeIterations: Int
            public var meanDecodeBatch: Double
            public var peakDecodeBatch: Int
            public var kvCapacityTokens: Int
            public var peakKVTokens: Int

            public init(name: String, role: String, ranks: [Int], tp: Int, prefillSeconds: Double, decodeSeconds: Double, utilization: Double, prefillBatches: Int, decodeIterations: Int, meanDecodeBatch: Double, peakDecodeBatch: Int, kvCapacityTokens: Int, peakKVTokens: Int) {
                self.name = name
                self.role = role
                self.ranks = ranks
                self.tp = tp
                self.prefillSeconds = prefillSeconds
                self.decodeSeconds = decodeSeconds
                self.utilization = utilization
                self.prefillBatches = prefillBatches
                self.decodeIterations = decodeIterations
                self.meanDecodeBatch = meanDecodeBatch
                self.peakDecodeBatch = peakDecodeBatch
                self.kvCapacityTokens = kvCapacityTokens
                self.peakKVTokens = peakKVTokens
            }
        }
        public var mode: String
        public var model: String
        public var parameters: Double
        public var precision: String
        public var gpus: Int
        public var arrivals: String
        public var requests: Int
        public var maxBatch: Int
        public var maxPrefillTokens: Int
        public var seconds: Double
        public var ttft: Distribution
        public var tpot: Distribution
        public var sloTTFT: Double
        public var sloTPOT: Double
        public var attainment: Double
        /// The share of requests that had to meet both objectives, when the workload set one.
        public var attainmentTarget: Double? = nil
        /// Whether the attainment reached its target (`nil` without a target).
        public var sloMet: Bool? { attainmentTarget.map { attainment >= $0 } }
        /// The verdict in words, when there is a target.
        public var sloVerdict: String? {
            guard let t = attainmentTarget else { return nil }
            return attainment >= t
                ? "SLO attainment \(Self.pct(attainment)) meets the \(Self.pct(t)) target"
                : "SLO MISSED: attainment \(Self.pct(attainment)) is below the \(Self.pct(t)) target (\(Self.pct(t - attainment)) of the requests short)"
        }
        public var ttftAttainment: Double
        public var tpotAttainment: Double
        public var goodput: Double
        public var requestRate: Double
        public var outputTokensPerSecond: Double
        public var kvTransfer: Distribution?
        public var kvTransferBytes: Double
        /// An idle instance of the first group serving the mean request alone: its prefill (with
        /// all-reduces) and its first decode iteration at batch 1.
        public var referencePrefill: Double
        public var referenceDecodeStep: Double
        public var instances: [Instance]
        public var linkSimulations: Int

        /// One CSV row per instance: role, GPUs, busy time, batches and KV-cache use.
        func csv() -> String {
            var s = "instance,role,gpus,tp,prefill_s,decode_s,utilization,prefill_batches,decode_iterations,mean_decode_batch,peak_decode_batch,kv_capacity_tokens,peak_kv_tokens\n"
            for i in instances {
                let fields: [String] = [
                    i.name, i.role, "\(i.ranks.count)", "\(i.tp)", JSONValue.number(i.prefillSeconds), JSONValue.number(i.decodeSeconds), JSONValue.number(i.utilization),
                    "\(i.prefillBatches)", "\(i.decodeIterations)", JSONValue.number(i.meanDecodeBatch), "\(i.peakDecodeBatch)", "\(i.kvCapacityTokens)", "\(i.peakKVTokens)",
                ]
                s += fields.joined(separator: ",") + "\n"
            }
            return s
        }

        var json: JSONValue {
            var pairs: [(String, JSONValue)] = [
                ("mode", .string(mode)), ("model", .string(model)), ("parameters", .double(parameters)), ("precision", .string(precision)), ("gpus", .int(Int64(gpus))),
                ("arrivals", .string(arrivals)), ("requests", .int(Int64(requests))), ("max_batch", .int(Int64(maxBatch))), ("max_prefill_tokens", .int(Int64(maxPrefillTokens))),
                ("seconds", .double(seconds)), ("ttft", ttft.json), ("tpot", tpot.json),
                ("slo", .object([
                    ("ttft_s", .double(sloTTFT)), ("tpot_s", .double(sloTPOT)), ("attainment", .double(attainment)), ("ttft_attainment", .double(ttftAttainment)),
                    ("tpot_attainment", .double(tpotAttainment)),
                ] + (attainmentTarget.map { [("target_attainment", JSONValue.double($0)), ("met", .bool(attainment >= $0))] } ?? []))),
                ("goodput_rps", .double(goodput)), ("request_rate_rps", .double(requestRate)), ("throughput_tokens_per_s", .double(outputTokensPerSecond)),
            ]
            if let k = kvTransfer { pairs.append(("kv_transfer", .object([("seconds", k.json), ("bytes", .double(kvTransferBytes))]))) }
            pairs.append(("reference", .object([("prefill_s", .double(referencePrefill)), ("decode_step_s", .double(referenceDecodeStep))])))
            pairs.append(("instances", .array(instances.map { i in
                .object([
                    ("name", .string(i.name)), ("role", .string(i.role)), ("ranks", .array(i.ranks.map { .int(Int64($0)) })), ("tp", .int(Int64(i.tp))),
                    ("prefill_s", .double(i.prefillSeconds)), ("decode_s", .double(i.decodeSeconds)), ("utilization", .double(i.utilization)),
                    ("prefill_batches", .int(Int64(i.prefillBatches))), ("decode_iterations", .int(Int64(i.decodeIterations))),
                    ("mean_decode_batch", .double(i.meanDecodeBatch)), ("peak_decode_batch", .int(Int64(i.peakDecodeBatch))),
                    ("kv_capacity_tokens", .int(Int64(i.kvCapacityTokens))), ("peak_kv_tokens", .int(Int64(i.peakKVTokens))),
                ])
            })))
            pairs.append(("link_simulations", .int(Int64(linkSimulations))))
            return .object(pairs)
        }

        static func ms(_ s: Double) -> String { formatDecimal(s * 1e3, maxDecimals: 3) + " ms" }
        static func pct(_ x: Double) -> String { formatDecimal(x * 100, maxDecimals: 2) + "%" }

        /// One line: TTFT and TPOT percentiles, SLO attainment and goodput.
        var summary: String {
            "TTFT mean \(Self.ms(ttft.mean)), p90 \(Self.ms(ttft.p90)), p99 \(Self.ms(ttft.p99)); TPOT mean \(Self.ms(tpot.mean)), p90 \(Self.ms(tpot.p90)), p99 \(Self.ms(tpot.p99)); SLO (\(Self.ms(sloTTFT)), \(Self.ms(sloTPOT))) met by \(Self.pct(attainment)); goodput \(formatDecimal(goodput, maxDecimals: 3)) req/s of \(formatDecimal(requestRate, maxDecimals: 3)); \(formatDecimal(outputTokensPerSecond, maxDecimals: 0)) tokens/s"
                + (sloVerdict.map { "\n" + $0 } ?? "")
        }

        func markdown() -> String {
            let ms = Self.ms, pct = Self.pct
            var s = "\n## Serving\n\n| figure | value |\n| --- | --- |\n"
            s += "| model | \(model), \(formatDecimal(parameters / 1e9, maxDecimals: 2)) B parameters, \(precision) |\n"
            s += "| deployment | \(mode), \(gpus) GPUs: " + instances.map { "\($0.name) (tp \($0.tp))" }.joined(separator: ", ") + "; max batch \(maxBatch), max prefill tokens \(maxPrefillTokens) |\n"
            s += "| requests | \(requests), \(arrivals); last token at \(ms(seconds)) |\n"
            s += "| TTFT | mean \(ms(ttft.mean)), p50 \(ms(ttft.p50)), p90 \(ms(ttft.p90)), p99 \(ms(ttft.p99)) |\n"
            s += "| TPOT | mean \(ms(tpot.mean)), p50 \(ms(tpot.p50)), p90 \(ms(tpot.p90)), p99 \(ms(tpot.p99)) |\n"
            s += "| SLO | TTFT ≤ \(ms(sloTTFT)) and TPOT ≤ \(ms(sloTPOT)): \(pct(attainment)) of requests (TTFT \(pct(ttftAttainment)), TPOT \(pct(tpotAttainment))) |\n"
            if let v = sloVerdict { s += "| SLO verdict | \(v) |\n" }
            s += "| goodput | \(formatDecimal(goodput, maxDecimals: 3)) requests/s meeting both SLOs, of \(formatDecimal(requestRate, maxDecimals: 3)) served |\n"
            s += "| throughput | \(formatDecimal(outputTokensPerSecond, maxDecimals: 1)) output tokens/s |\n"
            if let k = kvTransfer { s += "| KV-cache transfer | mean \(ms(k.mean)), max \(ms(k.max)), \(formatDecimal(kvTransferBytes / 1e9, maxDecimals: 3)) GB in all |\n" }
            s += "| one request alone | prefill \(ms(referencePrefill)), decode step \(ms(referenceDecodeStep)) |\n"
            s += "\n| instance | role | GPUs | prefill | decode | utilization | prefill batches | decode iterations | mean / peak batch | KV tokens peak / capacity |\n"
            s += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            for i in instances {
                s += "| \(i.name) | \(i.role) | \(i.ranks.map(String.init).joined(separator: ",")) | \(ms(i.prefillSeconds)) | \(ms(i.decodeSeconds)) | \(pct(i.utilization)) | \(i.prefillBatches) | \(i.decodeIterations) | \(formatDecimal(i.meanDecodeBatch, maxDecimals: 2)) / \(i.peakDecodeBatch) | \(i.peakKVTokens) / \(i.kvCapacityTokens) |\n"
            }
            return s
        }

        public init(mode: String, model: String, parameters: Double, precision: String, gpus: Int, arrivals: String, requests: Int, maxBatch: Int, maxPrefillTokens: Int, seconds: Double, ttft: Distribution, tpot: Distribution, sloTTFT: Double, sloTPOT: Double, attainment: Double, ttftAttainment: Double, tpotAttainment: Double, goodput: Double, requestRate: Double, outputTokensPerSecond: Double, kvTransfer: Distribution?, kvTransferBytes: Double, referencePrefill: Double, referenceDecodeStep: Double, instances: [Instance], linkSimulations: Int) {
            self.mode = mode
            self.model = model
            self.parameters = parameters
            self.precision = precision
            self.gpus = gpus
            self.arrivals = arrivals
            self.requests = requests
            self.maxBatch = maxBatch
            self.maxPrefillTokens = maxPrefillTokens
            self.seconds = seconds
            self.ttft = ttft
            self.tpot = tpot
            self.sloTTFT = sloTTFT
            self.sloTPOT = sloTPOT
            self.attainment = attainment
            self.ttftAttainment = ttftAttainment
            self.tpotAttainment = tpotAttainment
            self.goodput = goodput
            self.requestRate = requestRate
            self.outputTokensPerSecond = outputTokensPerSecond
            self.kvTransfer = kvTransfer
            self.kvTransferBytes = kvTransferBytes
            self.referencePrefill = referencePrefill
            self.referenceDecodeStep = referenceDecodeStep
            self.instances = instances
            self.linkSimulations = linkSimulations
        }
    }

    public static let servingEnergyNote =
        "energy: an instance's GPUs draw their TDP while one of its prefill or decode iterations runs and their idle power otherwise (GPUs in no instance idle throughout; a memory-bound decode step draws less than TDP on real GPUs, so this is an upper bound), plus the network energy of every byte the all-reduces and KV-cache transfers carried (spread evenly over the run in the power over time)"

    public static let servingNotes = [
        "serving: each request is a prefill of its prompt (which yields the first token) and o - 1 decode iterations; instances batch at iteration level (continuous batching), first come first served, up to max_batch running requests and max_prefill_tokens prompt tokens per prefill batch",
        "colocated instances run a waiting prefill before their next decode iteration (vLLM's default scheduler without chunked prefill), so prefills stall the decode of every running request; disaggregated prefill and decode instances never share a GPU",
        "dispatch: a new request goes to the (prefill) instance with the fewest unfinished requests, a prefilled one to the decode instance with the fewest; lowest index on ties",
        "prefill of prompts p_i on T = sum p_i tokens: L x (QKV T x (h+2gd)/t x h, output T x h x h/t, FFN T x f/t x h (x2 gated) and T x h x f/t, causal attention a/t*p x p/2 x d twice per prompt, (11h + 3f/t) T e bytes element-wise) + output layer n x V/t x h; every product by the GEMM roofline with a 3 us kernel floor",
        "decode iteration of B requests with contexts c_i: the same dense products at T = B (at small B their time is the weight stream, about parameters x e / (t x HBM x 0.85)), output layer B x V/t x h, and attention as a KV-cache read of L x 2 x ceil(g/t) x d x e x sum c_i bytes per GPU at the HBM rate",
        "tensor parallelism: 2 ring all-reduces of T x h x e bytes per layer and iteration on the instance's links (2(t-1) steps of S/t), exposed, each timed on idle links as part of the iteration (approximation: a KV transfer crossing an instance's links does not slow its all-reduces, nor they the transfer; all-reduces of different instances use different links)",
        "disaggregated: after its prefill a request's KV cache (2 x L x g x d x p x e bytes, split by heads over the GPUs) goes to its decode instance over the links, as a collective of the cluster executor: every transfer running at once, of one prefill batch or of several, shares the links with the others max-min fairly (fluid approximation over whole transfers: k equal transfers on one link take k x S / link bandwidth); the prefill instance holds the cache until it has left",
        "memory: weights parameters x e / t per GPU; the KV cache gets 0.9 x HBM capacity minus the weights (vLLM's gpu_memory_utilization); a request reserves prompt + output tokens when admitted (prompt only on a prefill instance), so nothing is preempted",
        "TTFT = first token - arrival; TPOT = (last token - first token) / (o - 1), queueing and KV transfer included; percentiles are nearest-rank; a request meets the SLO when TTFT <= slo.ttft and TPOT <= slo.tpot (single-token requests have no TPOT and meet that half)",
        "goodput = requests meeting both SLOs / time from 0 to the last token; throughput = output tokens / the same time",
    ]
}
