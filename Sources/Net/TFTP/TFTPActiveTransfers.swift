import NIOCore
import Synchronization

/// The transfers running, by client TID: shared by the listening loop (which starts them) and the
/// transfer channels (which end on their event loops). Bounds how many run at once.
final class TFTPActiveTransfers: Sendable {
    private let channels = Mutex<[SocketAddress: (any Channel)?]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    enum Reservation { case reserved, duplicate, full }

    /// Claims `client`'s TID for a new transfer. A second RRQ from the same TID is the client
    /// retransmitting its request: the first transfer answers it.
    func reserve(_ client: SocketAddress) -> Reservation {
        channels.withLock { channels in
            if channels.keys.contains(client) { return .duplicate }
            if channels.count >= limit { return .full }
            channels[client] = .some(nil)
            return .reserved
        }
    }

    func attach(_ channel: any Channel, to client: SocketAddress) {
        channels.withLock { $0[client] = channel }
    }

    func release(_ client: SocketAddress) {
        _ = channels.withLock { $0.removeValue(forKey: client) }
    }

    var count: Int { channels.withLock { $0.count } }

    /// Every running transfer's channel.
    var all: [any Channel] { channels.withLock { $0.values.compactMap { $0 } } }
}
