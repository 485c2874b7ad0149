import Foundation
import TesseraOutput

/// Maps over items on `jobs` threads at once, keeping their order: the items are cut into `jobs`
/// contiguous runs, one per thread, each writing only its own slots of the result.
enum ParallelMap {
    static func map<T: Sendable>(_ items: [Int], jobs: Int, _ transform: @escaping @Sendable (Int) -> T) -> [T] {
        let workers = max(1, min(jobs, items.count))
        if workers == 1 { return items.map(transform) }
        let slots = Slots<T>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = items.count * w / workers
            let hi = items.count * (w + 1) / workers
            for i in lo..<hi { slots.set(i, transform(items[i])) }
        }
        return slots.values
    }

    /// The result slots; threads write disjoint indices, and they are read after all have joined.
    private final class Slots<T>: @unchecked Sendable {
        private let base: UnsafeMutablePointer<T?>
        private let count: Int
        init(count: Int) {
            self.count = count
            base = UnsafeMutablePointer<T?>.allocate(capacity: count)
            base.initialize(repeating: nil, count: count)
        }
        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }
        func set(_ i: Int, _ v: T) { base[i] = v }
        var values: [T] { UnsafeBufferPointer(start: base, count: count).compactMap { $0 } }
    }
}
