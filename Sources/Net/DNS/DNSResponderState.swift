import Synchronization

/// The responder the service answers with, swapped whole when zones change: each query sees one
/// consistent snapshot, and a change is visible to the next query (the inventory watch updates it).
public final class DNSResponderState: Sendable {
    private let current: Mutex<DNSResponder>

    public init(_ responder: DNSResponder) { current = Mutex(responder) }

    public var responder: DNSResponder { current.withLock { $0 } }

    /// Installs new zones, keeping each zone's serial increasing: a zone whose records changed gets a
    /// serial above both its old one and the one given (RFC 1982 arithmetic is not needed while serials
    /// only grow). Returns the apexes whose contents changed, for NOTIFY.
    @discardableResult
    public func update(zones new: DNSZoneSet) -> [DNSName] {
        current.withLock { responder in
            var zones = new
            var changed: [DNSName] = []
            for (origin, var zone) in new.zones {
                if let old = responder.zones.zones[origin] {
                    var same = zone
                    same.serial = old.serial
                    if same == old {
                        zone.serial = old.serial
                    } else {
                        zone.serial = max(zone.serial, old.serial &+ 1)
                        changed.append(origin)
                    }
                } else {
                    changed.append(origin)
                }
                zones[origin] = zone
            }
            responder.zones = zones
            return changed
        }
    }

    public func configure(_ change: (inout DNSResponder) -> Void) {
        current.withLock { change(&$0) }
    }
}
