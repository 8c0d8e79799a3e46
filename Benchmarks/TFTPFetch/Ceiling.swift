// `tftp-fetch --ceiling BYTES`: the fastest a TFTP server could answer this client on this machine.
//
// A bare sender on a thread of this process answers one RRQ: OACK, then each window straight from one
// static buffer of zeros (no file, no state machine, no checks), the next window as soon as an ACK comes.
// The client then fetches from it with its usual code. What it measures is loopback UDP, the kernel's
// copies and two wake-ups per window: no real server can beat it, so it bounds every ratio in the
// benchmark.

#if canImport(Glibc)
import Glibc
#endif
import Foundation

struct CeilingSender: @unchecked Sendable {
    let descriptor: CInt
    let port: UInt16
    let size: Int

    /// Binds 127.0.0.1 on a port of the kernel's choosing and starts answering on a thread.
    static func start(size: Int) throws -> CeilingSender {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard descriptor >= 0, bound else { throw Failure("ceiling: cannot bind 127.0.0.1: \(String(cString: strerror(errno)))") }
        let sender = CeilingSender(descriptor: descriptor, port: UInt16(bigEndian: address.sin_port), size: size)
        let thread = Thread { sender.serve() }
        thread.start()
        return sender
    }

    private func serve() {
        var peer = sockaddr_storage()
        var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var request = [UInt8](repeating: 0, count: 2048)
        let count = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &request, request.count, 0, $0, &peerLength) }
        }
        guard count > 2 else { return }
        _ = withUnsafePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, peerLength) } }
        // The options follow the file name and the mode, each NUL-terminated.
        var start = 2
        for _ in 0..<2 { start = (request[start..<count].firstIndex(of: 0) ?? count - 1) + 1 }
        let asked = request.withUnsafeBytes { options(UnsafeRawBufferPointer(rebasing: $0[start..<count])) }
        let blockSize = asked["blksize"] ?? 512
        let windowSize = asked["windowsize"] ?? 1
        var oack: [UInt8] = [0, 6]
        for (name, value) in [("blksize", blockSize), ("windowsize", windowSize), ("tsize", size)] {
            oack += Array(name.utf8) + [0] + Array(String(value).utf8) + [0]
        }
        _ = send(descriptor, oack, oack.count, 0)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        payload.initializeMemory(as: UInt8.self, repeating: 0)
        let lastBlock = size / blockSize + 1
        var header: [UInt8] = [0, 3, 0, 0]
        var ack = [UInt8](repeating: 0, count: 16)
        var acknowledged = 0
        while acknowledged < lastBlock {
            guard recv(descriptor, &ack, ack.count, 0) >= 4, ack[1] == 4 else { continue }
            // The ACK's 16-bit number, placed in the window it can belong to.
            var candidate = acknowledged - (acknowledged & 0xFFFF) + (Int(ack[2]) << 8 | Int(ack[3]))
            if candidate < acknowledged - 0x8000 { candidate += 0x10000 }
            acknowledged = candidate
            guard acknowledged < lastBlock else { break }
            for block in acknowledged + 1...min(acknowledged + windowSize, lastBlock) {
                header[2] = UInt8(truncatingIfNeeded: block >> 8)
                header[3] = UInt8(truncatingIfNeeded: block)
                let length = block == lastBlock ? size - (block - 1) * blockSize : blockSize
                header.withUnsafeMutableBytes { head in
                    var vectors = (iovec(iov_base: head.baseAddress, iov_len: 4), iovec(iov_base: payload.baseAddress, iov_len: length))
                    withUnsafeMutablePointer(to: &vectors) {
                        $0.withMemoryRebound(to: iovec.self, capacity: 2) { vectors in
                            var message = msghdr()
                            message.msg_iov = vectors
                            message.msg_iovlen = 2
                            _ = sendmsg(descriptor, &message, 0)
                        }
                    }
                }
            }
        }
        close(descriptor)
    }
}
