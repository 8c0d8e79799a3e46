import NIOCore
import Synchronization

/// Keep-alive connections to one etcd member, at most `maximum` at a time. Callers beyond that wait in
/// line for a connection to come back, so 64 concurrent writers share a handful of sockets instead of
/// paying a TCP handshake per request.
final class EtcdConnectionPool: Sendable {
    let endpoint: EtcdEndpoint
    private let maximum: Int
    private let state = Mutex(State())

    private struct State {
        var idle: [EtcdHTTPConnection] = []
        /// Connections open or being opened, idle or in use.
        var count = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Grant, any Error>)] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    /// What a caller gets: a connection to use, or the right to open one.
    private enum Grant: Sendable {
        case reuse(EtcdHTTPConnection)
        case open
    }

    init(endpoint: EtcdEndpoint, maximum: Int) {
        self.endpoint = endpoint
        self.maximum = max(1, maximum)
    }

    /// POSTs `body` to `path` on a pooled connection.
    func post(_ path: String, _ body: ByteBuffer) async throws(EtcdTransportError) -> EtcdHTTPResponse {
        let connection = try await checkOut()
        do {
            let response = try await connection.post(path, body)
            checkIn(connection, reusable: true)
            return response
        } catch {
            connection.close()
            checkIn(connection, reusable: false)
            throw error
        }
    }

    /// Closes idle connections and refuses new calls; connections in use close when they come back.
    func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            state.count -= state.idle.count
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: EtcdTransportError.connect("store closed")) }
    }

    private func checkOut() async throws(EtcdTransportError) -> EtcdHTTPConnection {
        let grant: Grant
        do {
            grant = try await nextGrant()
        } catch let error as EtcdTransportError {
            throw error
        } catch {
            throw EtcdTransportError.cancelled
        }
        switch grant {
        case .reuse(let connection):
            return connection
        case .open:
            do {
                return try await EtcdHTTPConnection.connect(to: endpoint)
            } catch {
                giveUpOpening()
                throw error
            }
        }
    }

    private func nextGrant() async throws -> Grant {
        let immediate: Result<Grant, EtcdTransportError>? = state.withLock { state in
            if state.closed { return .failure(.connect("store closed")) }
            while let connection = state.idle.popLast() {
                if connection.isActive { return .success(.reuse(connection)) }
                state.count -= 1
            }
            if state.count < maximum {
                state.count += 1
                return .success(.open)
            }
            return nil
        }
        if let immediate { return try immediate.get() }
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Cancellation marks the task before running the handler below, so checking it under the
                // lock means a waiter is either never queued or found and removed by the handler.
                let queued = state.withLock { state in
                    guard !Task.isCancelled, !state.closed else { return false }
                    state.waiters.append((id, continuation))
                    return true
                }
                if !queued { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a connection after a call: to the next waiter, to the idle list, or, if it broke, its slot.
    private func checkIn(_ connection: EtcdHTTPConnection, reusable: Bool) {
        let usable = reusable && connection.isActive
        let (waiter, grant, closeIt): (CheckedContinuation<Grant, any Error>?, Grant, Bool) = state.withLock { state in
            if state.closed {
                state.count -= 1
                return (nil, .open, true)
            }
            if !state.waiters.isEmpty {
                // A broken connection hands its slot on: the waiter opens a fresh one.
                return (state.waiters.removeFirst().continuation, usable ? .reuse(connection) : .open, false)
            }
            if usable {
                state.idle.append(connection)
            } else {
                state.count -= 1
            }
            return (nil, .open, false)
        }
        if closeIt { connection.close() }
        waiter?.resume(returning: grant)
    }

    /// Frees the slot of a connection that could not be opened; a waiter may try in turn.
    private func giveUpOpening() {
        let waiter = state.withLock { state in
            if !state.closed, !state.waiters.isEmpty { return Optional(state.waiters.removeFirst().continuation) }
            state.count -= 1
            return nil
        }
        waiter?.resume(returning: .open)
    }
}
