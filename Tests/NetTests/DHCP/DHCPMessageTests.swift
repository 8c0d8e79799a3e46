import NIOCore
import Net
import Testing

/// Hand-built vectors, byte by byte, and the RFC rules of the option codec.
@Suite struct DHCPMessageTests {
    /// A DISCOVER as iPXE sends it, trimmed: header fields annotated one by one.
    static let discover: [UInt8] =
        [
            0x01,  // op BOOTREQUEST
            0x01,  // htype Ethernet
            0x06,  // hlen
            0x00,  // hops
            0x9c, 0x27, 0x02, 0x0e,  // xid
            0x00, 0x04,  // secs
            0x80, 0x00,  // flags: broadcast
            0, 0, 0, 0,  // ciaddr
            0, 0, 0, 0,  // yiaddr
            0, 0, 0, 0,  // siaddr
            0, 0, 0, 0,  // giaddr
            0x52, 0x54, 0x00, 0x77, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // chaddr
        ] + [UInt8](repeating: 0, count: 64 + 128)  // sname, file
        + [0x63, 0x82, 0x53, 0x63]  // magic cookie
        + [53, 1, 1]  // DHCPDISCOVER
        + [57, 2, 0x05, 0xc0]  // max message size 1472
        + [93, 2, 0x00, 0x07]  // arch: UEFI x86-64
        + [60, 9] + Array("PXEClient".utf8)
        + [77, 4] + Array("iPXE".utf8)
        + [55, 4, 1, 3, 66, 67]  // parameter request list
        + [255]  // end
        + [0, 0, 0]  // padding, kept as the trailer

    @Test func parsesAnnotatedDiscover() throws {
        var buffer = ByteBuffer(bytes: Self.discover)
        let message = try DHCPMessage(parsing: &buffer)
        #expect(message.op == .request && message.xid == 0x9c27_020e && message.secs == 4 && message.broadcast)
        #expect("\(message.hardwareAddress)" == "52:54:00:77:00:01")
        #expect(message.messageType == .discover)
        #expect(message.trailer == [0, 0, 0])
        let request = try DHCPRequest(message)
        #expect(request.maxMessageSize == 1472 && request.architectures == [.uefiX64])
        #expect(request.isNetbootClient && request.isIPXE && request.vendorClass == "PXEClient")
        #expect(message.options.parameterRequestList.map(\.rawValue) == [1, 3, 66, 67])
        #expect(Array(message.bytes().readableBytesView) == Self.discover)
        #expect("\(message)" == "DISCOVER xid=0x9c27020e chaddr=52:54:00:77:00:01 secs=4 broadcast 57(max-size)=1472 93(arch)=7 60(vendor-class)=\"PXEClient\" 77(user-class)=69505845 55(prl)=1,3,66,67 +3")
    }

    static func mutated(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = discover
        change(&bytes)
        return bytes
    }

    static let malformed: [(String, [UInt8], DHCPParseError)] = [
        ("truncated header", Array(discover.prefix(100)), .truncated(field: "header", needed: 240, available: 100)),
        ("truncated cookie", Array(discover.prefix(238)), .truncated(field: "magic cookie", needed: 240, available: 238)),
        ("op 3", mutated { $0[0] = 3 }, .badOpcode(3)),
        ("hlen 17", mutated { $0[2] = 17 }, .badHardwareLength(17)),
        ("cookie", mutated { $0[239] = 0x64 }, .badMagicCookie(0x6382_5364)),
        ("option past end", Array(discover.prefix(240)) + [53, 1, 1, 60, 9, 0x50], .optionOverrun(code: 60, length: 9, available: 1, area: .options)),
        ("length byte missing", Array(discover.prefix(240)) + [53, 1, 1, 60], .optionOverrun(code: 60, length: 1, available: 0, area: .options)),
        ("overload 4", Array(discover.prefix(240)) + [52, 1, 4, 255], .badOverload([4])),
        ("overload long", Array(discover.prefix(240)) + [52, 2, 1, 1, 255], .badOverload([1, 1])),
        ("overload in file", mutated { $0.replaceSubrange(108..<112, with: [52, 1, 3, 255]) ; $0.insert(contentsOf: [52, 1, 1], at: 240) },
            .overloadLoop(.file)),
    ]

    @Test(arguments: malformed.indices)
    func rejectsMalformed(index: Int) {
        let (name, bytes, expected) = Self.malformed[index]
        var buffer = ByteBuffer(bytes: bytes)
        #expect(throws: expected, "\(name)") { try DHCPMessage(parsing: &buffer) }
    }

    @Test func requestViewRejectsBadOptions() throws {
        for (options, code) in [([53, 2, 1, 1], 53), ([53, 1, 1, 50, 3, 1, 2, 3], 50), ([53, 1, 1, 61, 1, 1], 61), ([53, 1, 1, 93, 3, 0, 0, 7], 93),
                                ([53, 1, 1, 82, 3, 1, 5, 0], 82), ([60, 1, 0x41], 53)] as [([UInt8], UInt8)] {
            var buffer = ByteBuffer(bytes: Array(Self.discover.prefix(240)) + options + [255])
            let message = try DHCPMessage(parsing: &buffer)
            #expect(throws: DHCPParseError.self) { try DHCPRequest(message) }
            do { _ = try DHCPRequest(message) } catch { if case .badOption(let got, _) = error { #expect(got == code) } else { Issue.record("\(error)") } }
        }
    }

    /// RFC 3396: a 300-byte option goes out as 255 + 45 and comes back joined; split instances in a
    /// received message are joined in order.
    @Test func longOptionsSplitAndJoin() throws {
        var message = DHCPMessage(op: .reply, xid: 1, chaddr: [1, 2, 3, 4, 5, 6])
        message.options.set(.messageType(.ack))
        let long = (0..<300).map { UInt8($0 % 251) }
        message.options[.vendorSpecific] = long
        let bytes = Array(message.bytes().readableBytesView)
        #expect(Array(bytes[243..<245]) == [43, 255] && Array(bytes[500..<502]) == [43, 45])
        var buffer = ByteBuffer(bytes: bytes)
        #expect(try DHCPMessage(parsing: &buffer).options[.vendorSpecific] == long)

        var split = ByteBuffer(bytes: Array(Self.discover.prefix(240)) + [53, 1, 1, 12, 2, 0x61, 0x62, 60, 1, 0x50, 12, 1, 0x63, 255])
        #expect(try DHCPMessage(parsing: &split).options.text(.hostName) == "abc")
    }

    /// RFC 2132 §9.3: what does not fit the client's size goes into `file`, then `sname`, announced by
    /// option 52, and parses back to the same options.
    @Test func overloadsWhenTooLarge() throws {
        var message = DHCPMessage(op: .reply, xid: 7, chaddr: [1, 2, 3, 4, 5, 6])
        message.options.set(.messageType(.offer))
        for code in 200..<211 { message.options[DHCPOptionCode(UInt8(code))] = Array(repeating: UInt8(code), count: 40) }
        let bytes = message.bytes(maxSize: 548)
        #expect(bytes.readableBytes <= 548)
        #expect(Array(bytes.readableBytesView)[240..<243] == [52, 1, 3])
        var buffer = bytes
        let parsed = try DHCPMessage(parsing: &buffer)
        #expect(Set(parsed.options.all) == Set(message.options.all))
        // Unlimited, everything stays in the options field.
        #expect(message.bytes().readableBytes == 240 + 3 + 11 * 42 + 1)
    }

    /// Relay agent information is last (RFC 3046 §2.1); replies list what the client asked for first,
    /// in its order (RFC 2132 §9.8).
    @Test func relayInformationLastAndRequestedOrder() {
        var options = DHCPOptions([
            DHCPOption(.messageType, [2]), DHCPOption(.relayAgentInformation, [1, 1, 9]), DHCPOption(.subnetMask, [255, 255, 255, 0]),
            DHCPOption(.router, [10, 0, 0, 1]), DHCPOption(.domainName, Array("lab".utf8)),
        ])
        options.order(by: [DHCPOptionCode(15), DHCPOptionCode(3)])
        #expect(options.all.map(\.code.rawValue) == [53, 15, 3, 82, 1])
        var message = DHCPMessage(op: .reply, xid: 1, chaddr: [], options: options)
        message.trailer = []
        let bytes = Array(message.bytes().readableBytesView)
        #expect(Array(bytes[240...]) == [53, 1, 2, 15, 3, 0x6c, 0x61, 0x62, 3, 4, 10, 0, 0, 1, 1, 4, 255, 255, 255, 0, 82, 3, 1, 1, 9, 255])
    }

    @Test func relaySubOptions() throws {
        var buffer = ByteBuffer(
            bytes: Array(Self.discover.prefix(240)) + [53, 1, 1, 82, 17, 1, 3, 0x61, 0x62, 0x63, 5, 4, 10, 9, 0, 0, 11, 4, 10, 9, 0, 1] + [255])
        let request = try DHCPRequest(DHCPMessage(parsing: &buffer))
        #expect(request.relayInformation?.circuitID == Array("abc".utf8))
        #expect(request.relayInformation?.linkSelection == IPv4Address(10, 9, 0, 0))
        #expect(request.relayInformation?.serverIdentifierOverride == IPv4Address(10, 9, 0, 1))
    }
}
