import Foundation
import Logging
import Metrics
import Net
import OSIS
import Workflow

/// Turns DHCP exchanges into appliance events for each machine's boot trace (`dhcp.discover`,
/// `dhcp.offer`, …, with `direction` in the data), and enrolls an unknown MAC that sends DISCOVER as a
/// machine in state `discovered` (`MachineRegistry`, so enrollment rules apply).
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

    /// Up to 8 writes in flight, so the store's group commit can share an fsync between them.
    private static func consume(_ stream: AsyncStream<DHCPExchangeEvent>, registry: MachineRegistry, logger: Logger) async {
        var known = Set<String>()
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await event in stream {
                let mac = "\(event.hardwareAddress)"
                var enroll = false
                if event.direction == .received, event.type == .discover, !known.contains(mac) {
                    // Bounded: a flood of random MACs must not grow this without end.
                    if known.count >= 100_000 { known.removeAll() }
                    known.insert(mac)
                    enroll = true
                }
                if inFlight >= 8 {
                    await group.next()
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    if enroll {
                        do {
                            _ = try await registry.discovered(Machine(mac: mac, architecture: event.architecture.map { "\($0)" }))
                        } catch {
                            logger.warning("dhcp: cannot enroll \(mac): \(error)")
                        }
                    }
                    try? await registry.engine.publish(Self.event(event))
                }
            }
        }
    }

    static func event(_ event: DHCPExchangeEvent) -> Event {
        var data = ["direction": event.direction.rawValue, "xid": "0x" + String(event.xid, radix: 16)]
        data["address"] = event.address.map { "\($0)" }
        data["vendor-class"] = event.vendorClass
        data["architecture"] = event.architecture.map { "\($0)" }
        data["detail"] = event.detail
        return Event(
            type: "dhcp.\("\(event.type)".lowercased())", machine: "\(event.hardwareAddress)", time: Date(), message: event.summary, data: data)
    }
}
