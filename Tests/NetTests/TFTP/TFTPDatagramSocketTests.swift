import NIOCore
import Testing

@testable import Net

/// The blocking adapter's pair of sockets on one port, against the kernel's rules for sharing ports.
@Suite struct TFTPDatagramSocketTests {
    /// Each transfer gets a port of its own while many hold theirs: a socket that allowed sharing before
    /// it bound port 0 was handed ports other sharing sockets held (149 of 3,000 in a trial).
    @Test func everyTransferGetsAPortOfItsOwn() throws {
        let local = TFTPSocketLoop.endpoint(try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        let client = TFTPSocketLoop.endpoint(try SocketAddress(ipAddress: "127.0.0.1", port: 9))
        var pairs: [TFTPDatagramSocket.TransferPair] = []
        defer { for pair in pairs { pair.client.close(); pair.strangers.close() } }
        for _ in 0..<2000 {
            pairs.append(try #require(TFTPDatagramSocket.transferPair(local: local, client: client)))
        }
        let ports = pairs.map { $0.strangers.localEndpoint?.port }
        #expect(!ports.contains(nil) && !ports.contains(0))
        #expect(Set(ports).count == ports.count)
        #expect(pairs.allSatisfy { $0.client.localEndpoint?.port == $0.strangers.localEndpoint?.port })
    }

    /// Once a transfer's two sockets hold their port, no third one binds it, even one that allows sharing.
    @Test func aTransfersPortTakesNoThirdSocket() throws {
        let local = TFTPSocketLoop.endpoint(try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        let client = TFTPSocketLoop.endpoint(try SocketAddress(ipAddress: "127.0.0.1", port: 9))
        let pair = try #require(TFTPDatagramSocket.transferPair(local: local, client: client))
        defer { pair.client.close(); pair.strangers.close() }
        let port = try #require(pair.strangers.localEndpoint)
        let intruder = TFTPDatagramSocket.bound(to: port, sharingPort: true, orAny: false)
        intruder?.close()
        #expect(intruder == nil)
    }
}
