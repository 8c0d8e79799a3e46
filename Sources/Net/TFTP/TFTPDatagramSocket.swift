#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP socket of a transfer on its own thread (`TFTPSocketTransfer`): the few system calls it
/// needs, with addresses kept as the kernel hands them over.
///
/// Kept apart from NIO: with NIOCore imported, C socket types may resolve to NIO's copy of the headers,
/// whose members Swift's member-import rule then refuses.
struct TFTPDatagramSocket: Sendable {
    let descriptor: CInt

    /// A peer's address and port as the socket calls take them.
    struct Endpoint: Sendable {
        fileprivate var storage = sockaddr_storage()
        fileprivate var length = socklen_t(MemoryLayout<sockaddr_storage>.size)

        init() {}

        init(copying address: UnsafePointer<sockaddr>, length: Int) {
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length)) }
            self.length = socklen_t(length)
        }

        var isIPv6: Bool { Int32(storage.ss_family) == AF_INET6 }

        /// The port, at the same offset in `sockaddr_in` and `sockaddr_in6` (read as bytes, for the reason
        /// `TFTPDatagramSocket` gives).
        var port: UInt16 { withUnsafeBytes(of: storage) { UInt16($0[2]) << 8 | UInt16($0[3]) } }

        fileprivate func withAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
            withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
        }
    }

    /// A transfer's two sockets on one port (see `transferPair`).
    typealias TransferPair = (client: TFTPDatagramSocket, strangers: TFTPDatagramSocket)

    /// The two sockets of one transfer, on one port: `client`, connected to the client's TID, and
    /// `strangers`, which gets every other datagram sent to that port (the kernel hands a datagram to the
    /// connected socket that matches its sender before an unconnected one). nil with `errno` set when
    /// they cannot be made.
    ///
    /// Connected, the client's socket sends without a route lookup per datagram and receives without the
    /// sender's address to copy and compare (tftpd-hpa connects its transfer socket the same way); the
    /// strangers' socket is what still lets them get ERROR 5 (RFC 1350 §4).
    ///
    /// The first socket takes its port (`local`'s is 0) before it allows sharing: a socket that allows it
    /// from the start may be given a port other sharing sockets hold, another transfer's. Once both are
    /// bound, neither allows it any more, so no third socket (another process's) can join them.
    static func transferPair(local: Endpoint, client peer: Endpoint) -> TransferPair? {
        guard let strangers = bound(to: local) else { return nil }
        if let port = strangers.localEndpoint, strangers.sharePort(), let client = bound(to: port, sharingPort: true, orAny: false) {
            if peer.withAddress({ connect(client.descriptor, $0, $1) }) == 0, strangers.sharePort(false), client.sharePort(false) {
                return (client, strangers)
            }
            client.closePreservingErrno()
        }
        strangers.closePreservingErrno()
        return nil
    }

    /// A socket of `endpoint`'s family, bound to it (or, failing that and `orAny`, to any address of the
    /// family: the address a request came to may be a broadcast); nil with `errno` set when neither
    /// works. `sharingPort`: it may bind a port that sockets which allow sharing hold.
    static func bound(to endpoint: Endpoint, sharingPort: Bool = false, orAny: Bool = true) -> TFTPDatagramSocket? {
        let family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        let socket = TFTPDatagramSocket(descriptor: descriptor)
        if sharingPort, !socket.sharePort() {
            socket.closePreservingErrno()
            return nil
        }
        var any = Endpoint()
        any.storage.ss_family = sa_family_t(family)
        any.length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        for candidate in orAny ? [endpoint, any] : [endpoint] where candidate.withAddress({ bind(descriptor, $0, $1) }) == 0 {
            return socket
        }
        socket.closePreservingErrno()
        return nil
    }

    /// The address and port the socket is bound to; nil with `errno` set when the kernel does not say.
    var localEndpoint: Endpoint? {
        var endpoint = Endpoint()
        let named = withUnsafeMutablePointer(to: &endpoint.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &endpoint.length) }
        }
        return named == 0 ? endpoint : nil
    }

    /// One datagram from the connected peer into `buffer`: its size, or -1 with `errno` (EAGAIN when the
    /// receive timeout passed).
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        recv(descriptor, buffer.baseAddress, buffer.count, 0)
    }

    /// One datagram already waiting, if any, into `buffer`: its size, or -1 with `errno` (EAGAIN when
    /// none is).
    func receiveWaiting(into buffer: UnsafeMutableRawBufferPointer, from sender: inout Endpoint) -> Int {
        sender.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &sender.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(descriptor, buffer.baseAddress, buffer.count, CInt(MSG_DONTWAIT), $0, &sender.length)
            }
        }
    }

    /// Sends `head` and `tail` as one datagram, gathered by the kernel (a DATA header and its payload,
    /// with no copy into a packet buffer first), to `peer` or, when nil, to the connected peer. A lost
    /// datagram is the protocol's to recover, so failures are not reported.
    func send(_ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), to peer: Endpoint? = nil) {
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: tail.baseAddress), iov_len: tail.count)
        )
        withUnsafeMutablePointer(to: &vectors) { pair in
            pair.withMemoryRebound(to: iovec.self, capacity: 2) { vectors in
                var message = msghdr()
                message.msg_iov = vectors
                message.msg_iovlen = tail.count > 0 ? 2 : 1
                guard let peer else {
                    _ = sendmsg(descriptor, &message, 0)
                    return
                }
                peer.withAddress { address, length in
                    message.msg_name = UnsafeMutableRawPointer(mutating: address)
                    message.msg_namelen = length
                    _ = sendmsg(descriptor, &message, 0)
                }
            }
        }
    }

    /// How long `receive` waits before it gives up with EAGAIN.
    func setReceiveTimeout(nanoseconds: Int64) {
        let micros = max(nanoseconds / 1000, 1)
        var value = timeval(tv_sec: Int(micros) / 1_000_000, tv_usec: Int(micros) % 1_000_000)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wakes a thread blocked in `receive` (it returns 0); sending still works afterwards.
    func shutdownReceiving() { _ = shutdown(descriptor, Int32(SHUT_RD)) }

    func close() { _ = Glibc.close(descriptor) }

    /// SO_REUSEADDR: while it is set, a socket that sets it too may bind this socket's port.
    private func sharePort(_ sharing: Bool = true) -> Bool {
        var on: CInt = sharing ? 1 : 0
        return setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<CInt>.size)) == 0
    }

    private func closePreservingErrno() {
        let failure = errno
        close()
        errno = failure
    }
}
