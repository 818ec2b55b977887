/// Work that must not hold things up for ever: its answer, or nil once `limit` has passed (the
/// work is then cancelled).
public enum Deadline {
    public static func run<Answer: Sendable>(within limit: Duration,
                                             _ work: @escaping @Sendable () async -> Answer?) async -> Answer? {
        await withTaskGroup(of: Answer?.self) { group in
            group.addTask { await work() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
