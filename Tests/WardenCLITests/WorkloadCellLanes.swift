import Foundation

/// Runs `count` jobs on at most `lanes` threads at once; results in job order.
enum CellLanes {
    static func run(_ count: Int, lanes: Int, _ job: @escaping @Sendable (Int) -> WorkloadCell) -> [WorkloadCell] {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var results: [Int: WorkloadCell] = [:]
        }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: max(1, min(lanes, count))) { _ in
            while true {
                box.lock.lock()
                let i = box.next
                box.next += 1
                box.lock.unlock()
                guard i < count else { return }
                let r = job(i)
                box.lock.lock()
                box.results[i] = r
                box.lock.unlock()
            }
        }
        return (0..<count).compactMap { box.results[$0] }
    }
}
