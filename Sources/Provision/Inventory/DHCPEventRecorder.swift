import Foundation
import Logging
import Metrics
import Net
import Synchronization
import OSIS
import Workflow

/// Turns DHCP exchanges into appliance events for each machine's boot trace, one per exchange, named
/// by the reply (`dhcp.offer`, `dhcp.ack`, `dhcp.nak`) or, without one, by the request (`dhcp.discover`
/// dropped, `dhcp.release`), with both sides in the data; and enrolls an unknown MAC that sends DISCOVER
/// as a machine in state `discovered` (`MachineRegistry`, so enrollment rules apply), answered or not.
///
/// The responder must never wait for the store on the trace's account: events go through a bounded
/// queue to one consumer; when the queue is full they are dropped and counted
/// (`dhcp_trace_dropped_total`), and the leases, which are on the responder's own path, are unaffected.
final class DHCPEventRecorder: DHCPEventSink {
    private let continuation: AsyncStream<DHCPExchangeEvent>.Continuation
    private let dropped = Counter(label: "dhcp_trace_dropped_total")
    private let log: LoggingDHCPEventSink

    init(registry: MachineRegistry, logger: Logger, capacity: Int = 4096) {
        let (stream, continuation) = AsyncStream.makeStream(of: DHCPExchangeEvent.self, bufferingPolicy: .bufferingOldest(capacity))
        self.continuation = continuation
        self.log = LoggingDHCPEventSink(logger: logger)
        Task { await Self.consume(stream, registry: registry, logger: logger) }
    }

    deinit { continuation.finish() }

    func record(_ event: DHCPExchangeEvent) {
        log.record(event)
        if case .dropped = continuation.yield(event) { dropped.increment() }
    }

    /// Events are written in batches, one commit for all that queued up while the last one was written;
    /// enrollments of new MACs run beside them, up to 8 at once.
    private static func consume(_ stream: AsyncStream<DHCPExchangeEvent>, registry: MachineRegistry, logger: Logger) async {
        let batches = DHCPTraceBatcher()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var known = Set<String>()
                var enrolling = 0
                await withTaskGroup(of: Void.self) { enrollments in
                    for await event in stream {
                        batches.add(Self.event(event))
                        let mac = "\(event.hardwareAddress)"
                        guard event.request == .discover, !known.contains(mac) else { continue }
                        // Bounded: a flood of random MACs must not grow this without end.
                        if known.count >= 100_000 { known.removeAll() }
                        known.insert(mac)
                        if enrolling >= 8 {
                            await enrollments.next()
                            enrolling -= 1
                        }
                        enrolling += 1
                        enrollments.addTask {
                            do {
                                _ = try await registry.discovered(Machine(mac: mac, architecture: event.architecture.map { "\($0)" }))
                            } catch {
                                logger.warning("dhcp: cannot enroll \(mac): \(error)")
                            }
                        }
                    }
                }
                batches.finish()
            }
            group.addTask {
                while let batch = await batches.next() {
                    do { try await registry.engine.publish(batch) } catch { logger.warning("dhcp: trace not stored: \(error)") }
                }
            }
        }
    }

    static func event(_ event: DHCPExchangeEvent) -> Event {
        var data = ["outcome": event.outcome.rawValue, "request": "\(event.request)".lowercased(), "xid": "0x" + String(event.xid, radix: 16)]
        data["reply"] = event.reply.map { "\($0)".lowercased() }
        data["requested-address"] = event.requestedAddress.map { "\($0)" }
        data["address"] = event.address.map { "\($0)" }
        data["vendor-class"] = event.vendorClass
        data["architecture"] = event.architecture.map { "\($0)" }
        data["detail"] = event.detail
        return Event(
            type: "dhcp.\("\(event.type)".lowercased())", machine: "\(event.hardwareAddress)", time: Date(), message: event.summary, data: data)
    }
}

/// Events waiting to be written, handed out as one batch at a time.
final class DHCPTraceBatcher: Sendable {
    private struct State {
        var events: [Event] = []
        var waiter: CheckedContinuation<[Event]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    let capacity: Int
    private let dropped = Counter(label: "dhcp_trace_dropped_total")

    init(capacity: Int = 8192) { self.capacity = capacity }

    /// Queues an event; beyond `capacity` waiting it is dropped and counted, so a slow store costs
    /// trace events, never memory.
    func add(_ event: Event) {
        let (waiter, accepted) = state.withLock { state -> (CheckedContinuation<[Event]?, Never>?, Bool) in
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            guard state.events.count < capacity else { return (nil, false) }
            state.events.append(event)
            return (nil, true)
        }
        if !accepted { dropped.increment() }
        waiter?.resume(returning: [event])
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[Event]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// All queued events, waiting for one if there are none; nil once finished and drained.
    func next() async -> [Event]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Event]?? in
                if !state.events.isEmpty {
                    defer { state.events = [] }
                    return .some(state.events)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
