import Dispatch

/// A SQLite connection together with the one serial queue allowed to touch it.
///
/// SQLite connections are not thread-safe and its calls block (fsync), so they run on their own queue
/// rather than on the cooperative pool. `@unchecked Sendable` is sound because `connection` is only read
/// inside `queue`'s work items.
final class SQLiteWorker: @unchecked Sendable {
    private let queue: DispatchQueue
    private let connection: SQLiteConnection

    init(label: String, connection: SQLiteConnection) {
        self.queue = DispatchQueue(label: label)
        self.connection = connection
    }

    /// Runs `body` on the worker's queue and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.connection) })
            }
        }
    }

    /// Runs `body` on the queue without waiting.
    func async(_ body: @escaping @Sendable (SQLiteConnection) -> Void) {
        queue.async { body(self.connection) }
    }

    /// Runs `body` on the queue after `delay`, without waiting.
    func async(after delay: Duration, _ body: @escaping @Sendable (SQLiteConnection) -> Void) {
        let nanoseconds = Int(delay.components.seconds) * 1_000_000_000 + Int(delay.components.attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { body(self.connection) }
    }

    /// Runs `body` on the queue and waits, for set-up and tear-down paths outside async contexts.
    func sync<T>(_ body: (SQLiteConnection) throws -> T) rethrows -> T {
        try queue.sync { try body(connection) }
    }
}
