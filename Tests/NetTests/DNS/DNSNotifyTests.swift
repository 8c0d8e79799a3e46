import Logging
import NIOCore
import Net
import Testing
import TestSupport

/// NOTIFY (RFC 1996 §3.7): one message per changed zone to each secondary, opcode NOTIFY, AA set, the
/// zone's SOA as the question.
@Suite struct DNSNotifyTests {
    @Test func notifiesEverySecondaryOfEveryChangedZone() async throws {
        let secondary = try UDPTestSocket()
        let service = DNSService(
            configuration: DNSService.Configuration(), state: DNSResponderState(DNSResponder()),
            logger: Logger(label: "dns-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        await service.notify([DNSName("lab.")!, DNSName("0.0.10.in-addr.arpa.")!], secondaries: [ListenAddress(host: "127.0.0.1", port: Int(secondary.port))])
        var zones: [String] = []
        for _ in 0..<2 {
            let received = try #require(await secondary.receive())
            let message = try DNSMessage(parsing: received.bytes)
            #expect(message.header.opcode == .notify && message.header.authoritative && !message.header.isResponse)
            #expect(message.questions.map(\.type) == [.soa])
            zones += message.questions.map(\.name.description)
        }
        #expect(zones.sorted() == ["0.0.10.in-addr.arpa.", "lab."])
    }
}
