import Synchronization
import Testing
import TrackerCore
import TrackerSystem
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's loop sleeps on an `InputQueue`: what any thread puts wakes it, in order and
/// with nothing lost; with nothing put it sleeps until its deadline, and no longer.
@Suite struct InputQueueTests {
    @Test func everythingPutFromOtherThreadsArrivesInEachThreadsOrder() {
        let queue = InputQueue<(thread: Int, n: Int)>()
        for thread in 0..<4 {
            _ = ReaderThread.start(name: "put-\(thread)") {
                for n in 0..<5_000 { queue.put((thread, n)) }
            }
        }
        var seen = [Int](repeating: 0, count: 4)
        let deadline = MonotonicInstant.now + .seconds(30)
        while seen.reduce(0, +) < 20_000 && MonotonicInstant.now < deadline {
            for item in queue.take(until: deadline) {
                #expect(item.n == seen[item.thread], "thread \(item.thread)'s puts in order")
                seen[item.thread] = item.n + 1
            }
        }
        #expect(seen == [5_000, 5_000, 5_000, 5_000])
    }

    @Test func withNothingPutItSleepsUntilTheDeadline() {
        let queue = InputQueue<Int>()
        let start = MonotonicInstant.now
        #expect(queue.take(until: start + .milliseconds(150)).isEmpty)
        #expect(MonotonicInstant.now - start >= .milliseconds(150), "not woken early")
        #expect(queue.take(until: start).isEmpty, "a deadline already past returns at once")
    }

    @Test func aPutWakesATakerThatHasNoDeadline() {
        let queue = InputQueue<Int>()
        let taken = Mutex<[Int]?>(nil)
        let done = InputQueue<Bool>()
        _ = ReaderThread.start(name: "taker") {
            let items = queue.take(until: nil)
            taken.withLock { $0 = items }
            done.put(true)
        }
        queue.put(7)
        #expect(done.take(until: .now + .seconds(10)) == [true])
        #expect(taken.withLock { $0 } == [7])
    }
}
