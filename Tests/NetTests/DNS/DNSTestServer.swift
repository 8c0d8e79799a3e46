import Foundation
import Logging
import NIOCore
import Net
import TestSupport

/// A `DNSService` on 127.0.0.1 and a free port, serving the test zones (plus a record set too big for
/// 512 bytes), for loopback and real-client tests.
struct DNSTestServer {
    let port: Int
    let state: DNSResponderState
    let task: Task<Void, any Error>

    static func start(
        zones: DNSZoneSet = DNSTestServer.zones, transfer: Set<String> = ["127.0.0.1"], upstreams: [ListenAddress] = [],
        idle: TimeAmount = .seconds(10)
    ) async throws -> DNSTestServer {
        let port = try freeUDPPort()
        let state = DNSResponderState(DNSResponder(zones: zones, transferAllowList: transfer))
        let service = DNSService(
            configuration: DNSService.Configuration(listen: ListenAddress(host: "127.0.0.1", port: port), upstreams: upstreams, tcpIdleTimeout: idle),
            state: state, logger: Logger(label: "dns-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await service.run() }
        // Ready once it answers over UDP and accepts over TCP.
        let probe = try UDPTestSocket()
        let query = Array(DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: DNSName("lab.")!, type: .soa)]).bytes().readableBytesView)
        for _ in 0..<300 {
            probe.send(query, to: UInt16(port))
            if await probe.receive(timeout: .milliseconds(50)) != nil, (try? TCPTestClient(port: port)) != nil { break }
        }
        return DNSTestServer(port: port, state: state, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    static var zones: DNSZoneSet {
        var lab = DNSTestZones.lab
        for index in 1...12 {
            try! lab.add(try! DNSResourceRecord(zoneLine: "big.lab. 60 IN TXT \"record \(index) of a set that does not fit in 512 bytes over UDP\""))
        }
        return DNSZoneSet([lab, DNSTestZones.reverse])
    }
}

/// A blocking TCP client speaking RFC 1035 §4.2.2 framing, for pipelining and idle tests.
final class TCPTestClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connected else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ messages: [[UInt8]]) {
        let bytes = messages.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next framed message, or nil when the server closed the connection.
    func receive() -> [UInt8]? {
        guard let header = read(2) else { return nil }
        return read(Int(header[0]) << 8 | Int(header[1]))
    }

    private func read(_ count: Int) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(count, 1))
        while result.count < count {
            let got = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, count - result.count) }
            guard got > 0 else { return nil }
            result += chunk[..<got]
        }
        return result
    }
}
