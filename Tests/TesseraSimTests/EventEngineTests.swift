import TesseraCore
import Testing

@testable import TesseraSim

@Suite struct EventEngineTests {
    /// Events come out in (time, priority, insertion) order, and time never goes backwards.
    @Test func eventsComeOutInTimePriorityAndInsertionOrder() throws {
        var engine = EventEngine<Int>()
        try engine.schedule(at: 5, 1)
        try engine.schedule(at: 3, priority: 1, 2)
        try engine.schedule(at: 3, priority: 0, 3)
        try engine.schedule(at: 3, priority: 0, 4)
        var order: [Int] = []
        while let e = engine.next() { order.append(e.payload) }
        #expect(order == [3, 4, 2, 1])
        #expect(engine.now == 5)
        #expect(throws: SimError.self) { try engine.schedule(at: 4, 9) }
    }

    /// A time past the horizon is a typed error (what input too large to simulate meets), not an
    /// overflow later; a saturated time from `Saturating` lands there too.
    @Test func aTimePastTheHorizonIsATypedError() throws {
        var engine = EventEngine<Int>()
        try engine.schedule(at: EventEngine<Int>.horizon, 1)
        do {
            try engine.schedule(at: Saturating.add(EventEngine<Int>.horizon, .max), 2)
            Issue.record("a time past the horizon was accepted")
        } catch {
            guard case .pastHorizon = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(error.description.contains("horizon of 2^62 ps"))
        }
    }
}
