import Foundation
import NIOCore
import Net
import Testing

/// Inputs libFuzzer found (`scripts/fuzz.sh dhcp`), each pinned with its story.
@Suite struct DHCPCrasherTests {
    /// 2026-11-23: option 82 in the middle of the options. Writing puts it last (RFC 3046 §2.1), so the
    /// message written back parsed to a different order; parsing now keeps 82 last too.
    @Test func crasher_20261123_relayInformationInTheMiddle() throws {
        var bytes = [UInt8](repeating: 0, count: 236)
        bytes[0] = 1
        bytes[1] = 1
        bytes[2] = 6
        bytes += [0x63, 0x82, 0x53, 0x63, 53, 1, 3, 82, 0, 84, 0, 119, 0, 1, 0, 255]
        var buffer = ByteBuffer(bytes: bytes)
        let message = try DHCPMessage(parsing: &buffer)
        var written = message.bytes()
        #expect(try DHCPMessage(parsing: &written) == message)
        #expect(message.options.all.last?.code == .relayAgentInformation)
    }
}
