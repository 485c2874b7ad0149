import TesseraCore
import TesseraPlan
import TesseraSim

/// A cluster training step as Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev): one
/// process per class of GPUs (a pipeline stage of the healthy replicas, or of a replica with a
/// faulty GPU), one track per stream (compute, sends forward and backward), and one process per
/// stage for its data-parallel streams. Each task is a complete (`X`) event, `ts` and `dur` in
/// microseconds; `args` give its kind (forward, backward, tp, pp, dp, ep, …), the collective and
/// its bytes.
public struct ClusterChromeTrace: Sendable {
    public var plan: TrainingStepPlan
    public var result: StepSimulator.Result

    /// The step's energy account, drawn as a power counter track when given.
    public var energy: EnergyAccount?

    public init(plan: TrainingStepPlan, result: StepSimulator.Result, energy: EnergyAccount? = nil) {
        self.plan = plan
        self.result = result
        self.energy = energy
    }

    public func json() -> String {
        var events: [JSONValue] = []
        let shared = plan.entities.count  // pids of the per-stage data-parallel processes start here
        func pid(_ stream: StepStream) -> Int64 { Int64(stream.entity ?? (shared + stream.stage)) + 1 }
        for (e, en) in plan.entities.enumerated() {
            events.append(.object([("name", .string("process_name")), ("ph", .string("M")), ("pid", .int(Int64(e + 1))), ("args", .object([("name", .string("\(en.name) (\(en.ranks.count) GPUs)"))]))]))
        }
        for s in 0..<plan.spec.parallelism.pp {
            events.append(.object([("name", .string("process_name")), ("ph", .string("M")), ("pid", .int(Int64(shared + s + 1))), ("args", .object([("name", .string("stage\(s) data parallel"))]))]))
        }
        for (k, st) in plan.streams.enumerated() {
            events.append(.object([("name", .string("thread_name")), ("ph", .string("M")), ("pid", .int(pid(st))), ("tid", .int(Int64(k))), ("args", .object([("name", .string(st.name))]))]))
        }
        for (i, t) in plan.tasks.enumerated() where result.end[i] > result.start[i] {
            var args: [(String, JSONValue)] = [("kind", .string(t.kind.rawValue))]
            if case .collective(let c) = t.work {
                args += [("collective", .string("\(c.op.rawValue) over \(c.group.rawValue)")), ("bytes", .uint(c.bytes))]
            }
            events.append(.object([
                ("name", .string(t.name)), ("cat", .string(t.kind.rawValue)), ("ph", .string("X")), ("pid", .int(pid(plan.streams[t.stream]))),
                ("tid", .int(Int64(t.stream))), ("ts", .double(result.start[i] * 1e6)), ("dur", .double((result.end[i] - result.start[i]) * 1e6)), ("args", .object(args)),
            ]))
        }
        if let energy {
            let pid = Int64(shared + plan.spec.parallelism.pp + 1)
            events.append(.object([("name", .string("process_name")), ("ph", .string("M")), ("pid", .int(pid)), ("args", .object([("name", .string("power (all GPUs and links)"))]))]))
            events += ChromeTrace.powerCounters(energy, pid: pid)
        }
        return JSONValue.object([("traceEvents", .array(events)), ("displayTimeUnit", .string("ns"))]).render() + "\n"
    }
}
