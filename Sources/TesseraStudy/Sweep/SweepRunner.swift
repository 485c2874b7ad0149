import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraOutput

/// Runs the points of a sweep (or of one shard of it) on a pool of worker threads, each point
/// through the whole in-process `Pipeline`, and streams every result to disk as soon as it is
/// known: the report to `reports/`, then the point's record to `points/` (atomically, which marks
/// it done). Nothing about a point is kept in memory after its record is written, so memory stays
/// flat however many points there are, and a run that stops for any reason resumes where it was.
///
/// Results do not depend on `jobs` or on sharding: each point is simulated alone and deterministically,
/// and the assembled files are written in point order from the records (`SweepResults`).
public struct SweepRunner: Sendable {
    public var spec: SweepSpec
    public var directory: SweepDirectory
    public var shard: SweepShard
    public var jobs: Int
    let builder: SweepPointBuilder
    let objectives: [SweepObjective]

    /// A point whose hardware or workload is not valid, with the axis values that made it.
    public struct InvalidPoint: Sendable {
        public var point: Int
        public var values: [String]
        public var error: InputError
    }

    /// What a run did.
    public struct Summary: Sendable, Hashable {
        /// Points of this shard.
        public var points = 0
        /// Points already done when the run started (resumed past).
        public var resumed = 0
        public var ok = 0
        public var invalid = 0
        public var failed = 0
        public var crashed = 0
        /// Every point of the shard whose record says it failed or crashed, in this run or an
        /// earlier one, in order: a resumed sweep with such points still fails.
        public var brokenPoints: [Int] = []
    }

    /// Progress, reported from worker threads one call at a time.
    public enum Event: Sendable {
        /// The run starts: `todo` points to run, `done` already finished, of `total` in the shard.
        case started(todo: Int, done: Int, total: Int)
        /// A point finished; `done` counts every finished point of the shard so far.
        case finished(SweepRecord, done: Int, total: Int)
    }

    public init(spec: SweepSpec, outputDirectory: String, shard: SweepShard = .whole, jobs: Int) {
        self.spec = spec
        self.directory = SweepDirectory(path: outputDirectory, points: spec.count)
        self.shard = shard
        self.jobs = max(1, jobs)
        self.builder = SweepPointBuilder(spec: spec, hardwareLoader: KindTable.hardwareLoader)
        self.objectives = spec.objectives.compactMap { SweepObjective.named($0.name) }
    }

    public var manifest: SweepManifest { SweepManifest(spec: spec, shard: shard) }

    /// What became of an earlier run's points when the axes gained or lost values.
    public struct Migration: Sendable, Equatable {
        /// Finished points whose values are still on the axes, renumbered and kept.
        public var kept: Int
        /// Finished points with a value no longer on an axis, set aside.
        public var dropped: Int
    }

    /// Makes the output directory ready: refuses one that holds another sweep or other files,
    /// empties it first when `fresh`, and writes the manifest. A directory of the same sweep with
    /// other values on its axes keeps its finished points (renumbered); those with a value no
    /// longer on an axis are dropped, and the answer says how many of each.
    @discardableResult
    public func prepare(fresh: Bool) throws(InputError) -> Migration? {
        let fm = FileManager.default
        let existing = try SweepDirectory.readManifest(in: directory.path)
        var migration: Migration?
        if let existing, !existing.sameSweep(as: manifest), !fresh, existing.frame != nil, existing.frame == manifest.frame {
            migration = try migrate(from: existing)
        } else if let existing, !existing.sameSweep(as: manifest), !fresh {
            throw InputError(
                Diagnostic(
                    at: SweepDirectory.location(ofKey: "digest", inManifestAt: directory.manifest),
                    existing.sweep == spec.name
                        ? "'\(directory.path)' holds results of '\(spec.name)' with other base files, axes or objectives"
                        : "'\(directory.path)' holds the results of another sweep ('\(existing.sweep)')",
                    expected: "the results of '\(spec.name)' (digest \(spec.digest)), a new -o directory, or --fresh to start over",
                    found: "digest \(existing.digest)"))
        }
        // What --emit writes may be there already.
        let emitted: Set<String> = [SweepBatchJob.slurmFile, SweepBatchJob.kubernetesFile, "logs", "shards"]
        if existing == nil, let contents = (try? fm.contentsOfDirectory(atPath: directory.path))?.filter({ !emitted.contains($0) }), !contents.isEmpty {
            throw InputError(
                Diagnostic(
                    at: nil, "'\(directory.path)' is not empty and holds no sweep", expected: "a new or empty directory, or one a sweep wrote",
                    found: contents.sorted().prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (contents.count > 3 ? ", …" : "")))
        }
        if fresh {
            for name in ["points", "reports", "plots", "results.csv", "results.json", "pareto.csv", SweepManifest.fileName] {
                try? fm.removeItem(atPath: directory.file(name))
            }
        }
        try directory.create()
        do {
            try AtomicFile.write(manifest.json(), to: directory.manifest)
        } catch {
            throw InputError(Diagnostic(at: nil, error.description))
        }
        return migration
    }

    /// Moves the finished points of an earlier run of this sweep (other axis values) to their
    /// numbers in this one: `points/` and `reports/` are set aside, every record whose values are
    /// all still on the axes is rewritten under its new number with its report, and the rest (with
    /// the earlier results files) are removed. The manifest is written after, by `prepare`.
    private func migrate(from _: SweepManifest) throws(InputError) -> Migration {
        let fm = FileManager.default
        let setAside = [directory.pointsDirectory, directory.reportsDirectory].map { $0 + ".previous" }
        if let left = setAside.first(where: { fm.fileExists(atPath: $0) }) {
            throw InputError(
                Diagnostic(
                    at: nil, "'\(left)' is left from an interrupted renumbering of '\(directory.path)'", expected: "no such folder",
                    found: "'\(left)'", hint: "run with --fresh to start over"))
        }
        do {
            for (from, to) in zip([directory.pointsDirectory, directory.reportsDirectory], setAside) where fm.fileExists(atPath: from) {
                try fm.moveItem(atPath: from, toPath: to)
            }
            for name in ["results.csv", "results.json", "pareto.csv", "plots"] { try? fm.removeItem(atPath: directory.file(name)) }
            try directory.create()
        } catch let e as InputError {
            throw e
        } catch {
            throw InputError(Diagnostic(at: nil, "cannot renumber the points of '\(directory.path)'", expected: "a writable directory", found: error.localizedDescription))
        }
        // Each axis value's position, by its text as records hold it.
        let positions = spec.axes.map { a in Dictionary(a.values.enumerated().map { ($0.element.flowText, $0.offset) }, uniquingKeysWith: { first, _ in first }) }
        let sizes = spec.dimensionSizes
        var kept = 0, dropped = 0
        let oldPoints = (try? fm.contentsOfDirectory(atPath: setAside[0])) ?? []
        for file in oldPoints.sorted() where file.hasSuffix(".json") {
            guard var r = SweepRecord.read((setAside[0] as NSString).appendingPathComponent(file)), r.values.count == spec.axes.count else {
                dropped += 1
                continue
            }
            let indices = zip(positions, r.values).map { $0[$1] }
            var point = 0
            var fits = true
            for (d, size) in zip(spec.dimensions, sizes) {
                guard let v = indices[d[0]], d.allSatisfy({ indices[$0] == v }) else {
                    fits = false
                    break
                }
                point = point * size + v
            }
            guard fits else {
                dropped += 1
                continue
            }
            if let report = r.report {
                let from = (setAside[1] as NSString).appendingPathComponent((report as NSString).lastPathComponent)
                let name = directory.reportName(point)
                if (try? fm.moveItem(atPath: from, toPath: directory.file(name))) != nil { r.report = name } else { r.report = nil }
            }
            r.point = point
            do {
                try AtomicFile.write(r.data(), to: directory.record(point))
            } catch {
                throw InputError(Diagnostic(at: nil, error.description))
            }
            kept += 1
        }
        for d in setAside { try? fm.removeItem(atPath: d) }
        return Migration(kept: kept, dropped: dropped)
    }

    /// True when point `k` has a record that belongs to this sweep.
    public func isDone(_ k: Int) -> Bool {
        guard let r = SweepRecord.read(directory.record(k)) else { return false }
        return r.point == k && r.values == spec.valueTexts(point: k) && (r.status != .ok || r.objectives.count == objectives.count)
    }

    /// The points of the shard without a record of this sweep, in order (one listing of `points/`,
    /// then a read of each record found).
    public func pendingPoints() -> [Int] {
        let recorded = directory.recordedPoints()
        return shard.points(of: spec.count).filter { !recorded.contains($0) || !isDone($0) }
    }

    /// Checks every point of the shard that is not done yet, before anything runs (on `jobs`
    /// threads, a chunk of points at a time).
    public func validate() -> [InvalidPoint] {
        var out: [InvalidPoint] = []
        let pending = pendingPoints()
        for start in stride(from: 0, to: pending.count, by: 4096) {
            let chunk = Array(pending[start..<min(pending.count, start + 4096)])
            let checked = ParallelMap.map(chunk, jobs: jobs) { k -> InvalidPoint? in
                guard case .failure(let e) = builder.specs(point: k) else { return nil }
                return InvalidPoint(point: k, values: spec.valueTexts(point: k), error: e)
            }
            out += checked.compactMap { $0 }
        }
        return out
    }

    /// Checks up to `limit` points of the shard (from the first) as `simulate` would before it
    /// simulates (`Pipeline.check`: pair rules, mapping, planning, bounds), without reading or
    /// writing the output directory: what `tessera validate SWEEP` runs. Returns how many points
    /// were checked and the invalid ones.
    public func check(limit: Int) -> (checked: Int, invalid: [InvalidPoint]) {
        let points = Array(shard.points(of: spec.count).prefix(limit))
        let checked = ParallelMap.map(points, jobs: jobs) { k -> InvalidPoint? in
            switch builder.specs(point: k) {
            case .failure(let e):
                return InvalidPoint(point: k, values: spec.valueTexts(point: k), error: e)
            case .success(let (hardware, workload)):
                do {
                    try Pipeline(hardware: hardware, workload: workload).check()
                    return nil
                } catch let e as InputError {
                    return InvalidPoint(point: k, values: spec.valueTexts(point: k), error: e)
                } catch {
                    return InvalidPoint(point: k, values: spec.valueTexts(point: k), error: InputError(Diagnostic(at: nil, "internal error: \(error)")))
                }
            }
        }
        return (points.count, checked.compactMap { $0 })
    }

    /// Records invalid points as such (so that results list them), and the run skips them.
    public func record(invalid: [InvalidPoint]) throws(AtomicFile.WriteError) {
        for p in invalid {
            let r = SweepRecord(point: p.point, values: p.values, status: .invalid, errors: p.error.diagnostics.map(\.description))
            try PlainFile.write(r.data(), to: directory.record(p.point))
        }
    }

    /// Runs every point of the shard that is not done.
    ///
    /// Each point is noted in the shard's journal (`points/started-I-of-N.log`) as it starts. A point
    /// noted there by an earlier run that left no record was running when that run died: it runs
    /// first, alone, through `isolate` (a child process in the CLI), and if that leaves no record it
    /// is recorded as `crashed` with the text `isolate` returned, so a point that kills the simulator
    /// costs only itself. Without `isolate` such points simply run again. `willRun` is called on the
    /// worker thread just before a point runs (after it is noted).
    public func run(
        isolate: (@Sendable (Int) -> String)? = nil, willRun: (@Sendable (Int) -> Void)? = nil, onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) throws(AtomicFile.WriteError) -> Summary {
        let total = Array(shard.points(of: spec.count)).count
        let todo = pendingPoints()
        var summary = Summary()
        summary.points = total
        summary.resumed = total - todo.count
        let pool = WorkPool(total: total, done: summary.resumed, onEvent: onEvent)
        onEvent(.started(todo: todo.count, done: summary.resumed, total: total))

        // Points a dead run left behind: alone, first.
        let journalPath = directory.journal(shard)
        let started = Set(Journal.lines(journalPath).compactMap { Int($0) })
        let suspects = isolate == nil ? [] : todo.filter { started.contains($0) }
        let journal = try Journal(path: journalPath)
        if let isolate {
            for k in suspects {
                let why = isolate(k)
                if let r = SweepRecord.read(directory.record(k)), isDone(k) {
                    pool.finished(r)
                } else {
                    let r = SweepRecord(point: k, values: spec.valueTexts(point: k), status: .crashed, errors: [why])
                    try PlainFile.write(r.data(), to: directory.record(k))
                    pool.finished(r)
                }
            }
        }
        let suspectSet = Set(suspects)
        pool.queue = todo.filter { !suspectSet.contains($0) }
        let workers = min(jobs, max(1, pool.queue.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                while let k = pool.next() {
                    do throws(AtomicFile.WriteError) {
                        // Noted first, so that a point that kills the process is found next time.
                        try journal.append(String(k))
                        willRun?(k)
                        pool.finished(try runPoint(k))
                    } catch {
                        pool.fail(error)
                    }
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        if let error = pool.error { throw error }
        let counts = pool.counts
        summary.ok = counts[.ok, default: 0]
        summary.invalid = counts[.invalid, default: 0]
        summary.failed = counts[.failed, default: 0]
        summary.crashed = counts[.crashed, default: 0]
        summary.brokenPoints = shard.points(of: spec.count).filter { k in
            guard let r = SweepRecord.read(directory.record(k)), r.point == k else { return false }
            return r.status == .failed || r.status == .crashed
        }
        return summary
    }

    /// Runs one point and writes its report, then its record (which marks it done); returns the record.
    public func runPoint(_ k: Int) throws(AtomicFile.WriteError) -> SweepRecord {
        let values = spec.valueTexts(point: k)
        let record: SweepRecord
        switch builder.specs(point: k) {
        case .failure(let e):
            record = SweepRecord(point: k, values: values, status: .invalid, errors: e.diagnostics.map(\.description))
        case .success(let (hardware, workload)):
            do {
                let out = try Pipeline(hardware: hardware, workload: workload).run(recordTimeline: false)
                let reportName = directory.reportName(k)
                try PlainFile.write(Data(out.report.json().utf8), to: directory.file(reportName))
                let source = SweepObjective.Source(report: out.report, hardware: HardwareModel(hardware), workload: workload)
                let figures = objectives.map { o in o.read(source).flatMap { $0.isFinite ? $0 : nil } }
                record = SweepRecord(point: k, values: values, status: .ok, objectives: figures, report: reportName)
            } catch let e as InputError {
                record = SweepRecord(point: k, values: values, status: .invalid, errors: e.diagnostics.map(\.description))
            } catch let e as AtomicFile.WriteError {
                throw e
            } catch {
                record = SweepRecord(point: k, values: values, status: .failed, errors: ["internal error: \(error)"])
            }
        }
        try PlainFile.write(record.data(), to: directory.record(k))
        return record
    }
}

/// The shared queue of points and the progress counters of one run, behind one lock.
final class WorkPool: @unchecked Sendable {
    private let lock = NSLock()
    var queue: [Int] = []
    private var position = 0
    private var done: Int
    private let total: Int
    private(set) var counts: [SweepRecord.Status: Int] = [:]
    private(set) var error: AtomicFile.WriteError?
    private let onEvent: @Sendable (SweepRunner.Event) -> Void

    init(total: Int, done: Int, onEvent: @escaping @Sendable (SweepRunner.Event) -> Void) {
        self.total = total
        self.done = done
        self.onEvent = onEvent
    }

    /// The next point to run; `nil` when none is left or a write failed.
    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, position < queue.count else { return nil }
        position += 1
        return queue[position - 1]
    }

    func finished(_ record: SweepRecord) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        counts[record.status, default: 0] += 1
        onEvent(.finished(record, done: done, total: total))
    }

    func fail(_ e: AtomicFile.WriteError) {
        lock.lock()
        defer { lock.unlock() }
        if error == nil { error = e }
    }
}
