import Foundation

/// A blocking IPv4 UDP socket on loopback (127.0.0.1 unless told another 127/8 address) for tests that
/// play a client byte by byte; it sends to 127.0.0.1.
public final class UDPTestSocket {
    public let descriptor: Int32
    public private(set) var port: UInt16 = 0

    public init(host: String = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = Self.loopback(port: 0)
        address.sin_addr.s_addr = inet_addr(host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    public func send(_ bytes: [UInt8], to port: UInt16) {
        var address = Self.loopback(port: port)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The next datagram and the port it came from, or nil after `timeout`. Polls without blocking, so the
    /// cooperative threads stay free for the server under test.
    public func receive(timeout: Duration = .seconds(5)) async -> (bytes: [UInt8], port: UInt16)? {
        let deadline = ContinuousClock.now + timeout
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 1 { break }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &buffer, buffer.count, 0, $0, &length) }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer[..<count]), UInt16(bigEndian: address.sin_port))
    }

    /// The next datagram from `port`, or nil after `timeout`. Datagrams from elsewhere are dropped, as a
    /// TFTP client drops those from a transfer ID not its own: a server in a test running alongside may
    /// still be answering the socket that had this one's port before.
    public func receive(from port: UInt16, timeout: Duration = .seconds(5)) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while let datagram = await receive(timeout: deadline - .now) {
            if datagram.port == port { return datagram.bytes }
        }
        return nil
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }
}

/// A UDP port that was free a moment ago on 127.0.0.1.
public func freeUDPPort() throws -> Int {
    Int(try UDPTestSocket().port)
}
