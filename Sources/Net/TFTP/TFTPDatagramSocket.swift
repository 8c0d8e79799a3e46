#if canImport(Glibc)
import Glibc
#endif

/// The blocking UDP socket a lock-step transfer runs on (`TFTPSocketTransfer`): the few system calls it
/// needs, with addresses kept as the kernel hands them over.
///
/// Kept apart from NIO: with NIOCore imported, C socket types may resolve to NIO's copy of the headers,
/// whose members Swift's member-import rule then refuses.
struct TFTPDatagramSocket: Sendable {
    let descriptor: CInt

    /// A peer's address and port as the socket calls take them; compared without building any text.
    struct Endpoint: Equatable, Sendable {
        fileprivate var storage = sockaddr_storage()
        fileprivate var length = socklen_t(MemoryLayout<sockaddr_storage>.size)

        init() {}

        init(copying address: UnsafePointer<sockaddr>, length: Int) {
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length)) }
            self.length = socklen_t(length)
        }

        var isIPv6: Bool { Int32(storage.ss_family) == AF_INET6 }

        /// Same family, port and address (for IPv6, the scope too). Compared as bytes at the fixed Linux
        /// ABI offsets, not by field: which module Swift credits with `sockaddr_in`'s fields depends on
        /// the build order (NIO ships its own copy of the headers), and the member-import rule then
        /// refuses them. `sockaddr_in`: family, port at 2..<4, address at 4..<8. `sockaddr_in6`: family,
        /// port at 2..<4, flow label, address at 8..<24, scope at 24..<28.
        static func == (a: Endpoint, b: Endpoint) -> Bool {
            guard a.storage.ss_family == b.storage.ss_family else { return false }
            func same(_ span: Range<Int>) -> Bool {
                withUnsafeBytes(of: a.storage) { x in withUnsafeBytes(of: b.storage) { y in x[span].elementsEqual(y[span]) } }
            }
            switch Int32(a.storage.ss_family) {
            case AF_INET: return same(2..<8)
            case AF_INET6: return same(2..<4) && same(8..<28)
            default: return false
            }
        }

        fileprivate func withAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
            withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
        }
    }

    /// A socket of `endpoint`'s family, bound to it (or, failing that, to any address of the family:
    /// the address a request came to may be a broadcast); nil with `errno` set when neither works.
    static func bound(to endpoint: Endpoint) -> TFTPDatagramSocket? {
        let family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var any = Endpoint()
        any.storage.ss_family = sa_family_t(family)
        any.length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        for candidate in [endpoint, any] where candidate.withAddress({ bind(descriptor, $0, $1) }) == 0 {
            return TFTPDatagramSocket(descriptor: descriptor)
        }
        let failure = errno
        Glibc.close(descriptor)
        errno = failure
        return nil
    }

    /// One datagram into `buffer`: its size, or -1 with `errno` (EAGAIN when the receive timeout passed).
    func receive(into buffer: UnsafeMutableRawBufferPointer, from sender: inout Endpoint) -> Int {
        sender.length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &sender.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(descriptor, buffer.baseAddress, buffer.count, 0, $0, &sender.length)
            }
        }
    }

    /// Sends `head` and `tail` as one datagram, gathered by the kernel (a DATA header and its payload,
    /// with no copy into a packet buffer first). A lost datagram is the protocol's to recover, so
    /// failures are not reported.
    func send(_ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), to peer: Endpoint) {
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: tail.baseAddress), iov_len: tail.count)
        )
        peer.withAddress { address, length in
            withUnsafeMutablePointer(to: &vectors) { pair in
                pair.withMemoryRebound(to: iovec.self, capacity: 2) { vectors in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(mutating: address)
                    message.msg_namelen = length
                    message.msg_iov = vectors
                    message.msg_iovlen = tail.count > 0 ? 2 : 1
                    _ = sendmsg(descriptor, &message, 0)
                }
            }
        }
    }

    /// How long `receive` waits before it gives up with EAGAIN.
    func setReceiveTimeout(_ timeout: Duration) {
        let micros = max(timeout / .microseconds(1), 1)
        var value = timeval(tv_sec: Int(micros) / 1_000_000, tv_usec: Int(micros) % 1_000_000)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wakes a thread blocked in `receive` (it returns 0); sending still works afterwards.
    func shutdownReceiving() { _ = shutdown(descriptor, Int32(SHUT_RD)) }

    func close() { _ = Glibc.close(descriptor) }
}
