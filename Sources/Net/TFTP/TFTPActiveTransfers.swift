import NIOCore
import Synchronization

/// A running transfer as the service sees it: something to stop at shutdown and to wait for.
protocol TFTPTransferHandle: Sendable {
    /// Completes when the transfer has ended and its port is closed.
    var closeFuture: EventLoopFuture<Void> { get }
    /// Ends the transfer from the server's side: the client gets ERROR 0 "Server shutting down".
    func shutdown()
}

/// A transfer run by a handler in a NIO channel (`TFTPTransferHandler`, `TFTPReceiveHandler`).
struct TFTPChannelTransfer: TFTPTransferHandle {
    let channel: any Channel

    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    func shutdown() {
        let channel = channel
        channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(TFTPTransferHandler.Shutdown()) }
    }
}

/// The transfers running, by client TID: shared by the listening loop (which starts them) and the
/// transfers (which end on their own). Bounds how many run at once.
final class TFTPActiveTransfers: Sendable {
    private let transfers = Mutex<[SocketAddress: (any TFTPTransferHandle)?]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    enum Reservation { case reserved, duplicate, full }

    /// Claims `client`'s TID for a new transfer. A second RRQ from the same TID is the client
    /// retransmitting its request: the first transfer answers it.
    func reserve(_ client: SocketAddress) -> Reservation {
        transfers.withLock { transfers in
            if transfers.keys.contains(client) { return .duplicate }
            if transfers.count >= limit { return .full }
            transfers[client] = .some(nil)
            return .reserved
        }
    }

    func attach(_ transfer: any TFTPTransferHandle, to client: SocketAddress) {
        transfers.withLock { $0[client] = transfer }
    }

    func release(_ client: SocketAddress) {
        _ = transfers.withLock { $0.removeValue(forKey: client) }
    }

    var count: Int { transfers.withLock { $0.count } }

    /// Every running transfer.
    var all: [any TFTPTransferHandle] { transfers.withLock { $0.values.compactMap { $0 } } }
}
