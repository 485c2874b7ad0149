import TesseraCore
import TesseraGraph

/// Work that only becomes known while a run goes on (continuous batching decides each iteration
/// from the requests that have arrived and finished), given to the cluster executor
/// (`TaskExecutor.run(source:)`) as it is decided.
///
/// The executor calls the source at time zero, whenever one of the source's tasks ends, and when
/// one of its timers fires; the source answers each call with tasks, which begin at once (the
/// source orders its own work: its tasks have no dependencies and no in-order stream), and with
/// timers. A task's compute lasts its picoseconds (times a faulty GPU's slowdown, the executor's
/// `FaultPolicy`); its collective is a flow on the executor's one fair-share network, where it
/// shares links with every other collective running, the plan's and the source's alike.
public protocol TaskSource {
    /// Time zero, before the plan's own tasks begin.
    mutating func start(_ out: inout TaskSubmissions) throws(SimError)
    /// The source's task `token` began at `began` and ended at `now`.
    mutating func ended(_ token: Int, began: Picoseconds, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError)
    /// The source's timer `tag` fired at `now`.
    mutating func timer(_ tag: Int, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError)
}

/// What a task source answers: tasks that begin now and timers, carried out in the order given
/// (events at one time are delivered in the order they were scheduled, so the order is part of
/// the result).
public struct TaskSubmissions: Sendable {
    public enum Work: Sendable {
        /// Compute on the entity's GPUs for this long on healthy GPUs.
        case picoseconds(Picoseconds)
        /// A collective on the network (`TaskPlan.collectivePlan` lays it out).
        case collective(GroupCollective)
    }
    struct Task: Sendable {
        var token: Int
        var stream: Int
        var entity: Int
        var work: Work
        var priority: Int
    }
    enum Entry: Sendable {
        case task(Task)
        case timer(at: Picoseconds, priority: Int, tag: Int)
    }
    /// The first entry of this answer, and those after it (most answers hold one entry: the
    /// instance's next iteration, so the common case touches no array).
    var first: Entry?
    var rest: [Entry] = []

    public init() {}

    /// A task of the source, identified by `token` when it ends, on `stream` and `entity` of the
    /// executor's plan (whose traffic share its collective carries). A compute task's end is an
    /// event of `priority` (at one time, lower priorities are delivered first).
    public mutating func begin(_ token: Int, stream: Int, entity: Int, _ work: Work, priority: Int = 0) {
        add(.task(Task(token: token, stream: stream, entity: entity, work: work, priority: priority)))
    }

    /// A timer at `time` (not before now); at one time, lower priorities fire first.
    public mutating func timer(at time: Picoseconds, priority: Int = 0, tag: Int) {
        add(.timer(at: time, priority: priority, tag: tag))
    }

    mutating func add(_ e: Entry) {
        if first == nil { first = e } else { rest.append(e) }
    }
}

/// No work beyond the plan's own tasks.
public struct NoTaskSource: TaskSource {
    public init() {}
    public mutating func start(_ out: inout TaskSubmissions) throws(SimError) {}
    public mutating func ended(_ token: Int, began: Picoseconds, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {}
    public mutating func timer(_ tag: Int, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {}
}
