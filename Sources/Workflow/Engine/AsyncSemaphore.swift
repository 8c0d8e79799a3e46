import Synchronization

/// Counts free slots; `acquire` waits (in FIFO order) until one is free. Bounds the engine's worker
/// pool and each action's concurrency.
public final class AsyncSemaphore: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    public init(_ slots: Int) { state = Mutex(State(free: slots)) }

    public func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    public func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}

/// Slots held for one attempt: the engine's and, when the action has a limit, the action's.
struct SlotLease: Sendable {
    let semaphores: [AsyncSemaphore]

    static func acquire(_ semaphores: [AsyncSemaphore]) async -> SlotLease {
        for semaphore in semaphores { await semaphore.acquire() }
        return SlotLease(semaphores: semaphores)
    }

    func release() {
        for semaphore in semaphores.reversed() { semaphore.release() }
    }
}
