import CoreMetrics
import NIOCore

/// What a transfer's own port (download or upload) does with a datagram before its state machine sees it.
enum TFTPTransferPeer {
    /// The packet, when it comes from the transfer's client and parses. A stranger gets ERROR 5 through
    /// `rejectStranger` and the transfer carries on undisturbed (RFC 1350 §4); what does not parse is
    /// dropped and counted.
    static func packet(
        in envelope: AddressedEnvelope<ByteBuffer>, from client: SocketAddress, metrics: TFTPMetrics,
        rejectStranger: (SocketAddress) -> Void
    ) -> TFTPPacket? {
        guard envelope.remoteAddress == client else {
            metrics.wrongTID.increment()
            rejectStranger(envelope.remoteAddress)
            return nil
        }
        var buffer = envelope.data
        guard let packet = try? TFTPPacket(parsing: &buffer) else {
            metrics.malformed.increment()
            return nil
        }
        return packet
    }
}
