/// The simulation's calendar: a binary min-heap of (time in nanoseconds, tracker), earliest
/// first, ties by tracker number so a run is the same every time. Sixteen bytes an entry, so a
/// million trackers fit in 16 MB.
struct EventHeap {
    private var times: [Int64] = []
    private var trackers: [Int32] = []

    var isEmpty: Bool { times.isEmpty }
    var count: Int { times.count }

    init(capacity: Int) {
        times.reserveCapacity(capacity)
        trackers.reserveCapacity(capacity)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        times[a] < times[b] || (times[a] == times[b] && trackers[a] < trackers[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        times.swapAt(a, b)
        trackers.swapAt(a, b)
    }

    mutating func push(_ time: Int64, _ tracker: Int32) {
        times.append(time)
        trackers.append(tracker)
        var child = times.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (time: Int64, tracker: Int32)? {
        guard let first = times.first else { return nil }
        let top = (first, trackers[0])
        let last = times.count - 1
        swapAt(0, last)
        times.removeLast()
        trackers.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < times.count && less(left, smallest) { smallest = left }
            if right < times.count && less(right, smallest) { smallest = right }
            if smallest == parent { break }
            swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
