import Foundation
import Net
import Testing

/// PXE, UEFI HTTP boot, iPXE chainloading and proxyDHCP (RFC 4578, PXE 2.1).
@Suite struct DHCPBootTests {
    static func pxe(_ arch: UInt16, _ vendor: String = "PXEClient:Arch:00007:UNDI:003016", extra: [DHCPOption] = []) -> DHCPTestClient {
        DHCPTestClient(
            1,
            options: [
                DHCPOption(.vendorClass, Array(vendor.utf8)), DHCPOption.uint16(.clientArchitecture, arch),
                DHCPOption(.clientMachineIdentifier, [0] + Array(repeating: 0xab, count: 16)),
            ] + extra)
    }

    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var client: DHCPTestClient
        var file: String
        var vendorClass: String?
    }

    static let rows: [Row] = [
        Row(description: "BIOS", client: pxe(0, "PXEClient:Arch:00000:UNDI:002001"), file: "undionly.kpxe", vendorClass: "PXEClient"),
        Row(description: "UEFI x64", client: pxe(7), file: "ipxe.efi", vendorClass: "PXEClient"),
        Row(description: "UEFI x64 (9)", client: pxe(9), file: "ipxe.efi", vendorClass: "PXEClient"),
        Row(description: "UEFI ARM64", client: pxe(11), file: "ipxe-arm64.efi", vendorClass: "PXEClient"),
        Row(description: "UEFI HTTP", client: pxe(16, "HTTPClient:Arch:00016:UNDI:003001"), file: "http://10.0.0.1/ipxe.efi", vendorClass: "HTTPClient"),
        Row(description: "iPXE (77)", client: pxe(7, extra: [DHCPOption(.userClass, Array("iPXE".utf8))]),
            file: "http://10.0.0.1:8080/boot/52-54-00-00-00-01.ipxe", vendorClass: "PXEClient"),
        Row(description: "iPXE (175)", client: pxe(0, extra: [DHCPOption(.ipxeEncapsulated, [19, 1, 1])]),
            file: "http://10.0.0.1:8080/boot/52-54-00-00-00-01.ipxe", vendorClass: "PXEClient"),
    ]

    @Test(arguments: rows)
    func bootFileByArchitecture(row: Row) {
        var responder = DHCPResponder(networks: [lab()])
        let offer = responder.handle(row.client.message(.discover), on: eth0, now: t0).reply!.message
        #expect(offer.options.text(.bootfileName) == row.file)
        #expect(DHCPMessage.fixedText(offer.file) == row.file)
        #expect(offer.siaddr == server)
        #expect(offer.options.text(.vendorClass) == row.vendorClass)
        #expect(offer.options[.clientMachineIdentifier] == [0] + Array(repeating: 0xab, count: 16))
        if row.file.hasPrefix("http") {
            #expect(offer.options[.tftpServerName] == nil)
        } else {
            #expect(offer.options.text(.tftpServerName) == "10.0.0.1")
        }
        // The ACK carries the same boot information.
        let ack = responder.handle(row.client.message(.request, requested: offer.yiaddr, server: server), on: eth0, now: t0).reply!.message
        #expect(ack.options.text(.bootfileName) == row.file && ack.siaddr == server)
    }

    @Test func ordinaryClientsGetNoBootFile() {
        var responder = DHCPResponder(networks: [lab()])
        let offer = responder.handle(DHCPTestClient(1).message(.discover), on: eth0, now: t0).reply!.message
        #expect(offer.options[.bootfileName] == nil && offer.siaddr == .any && offer.file.allSatisfy { $0 == 0 })
    }

    /// proxyDHCP: PXE clients get boot information and no address; everyone else, and REQUESTs on 67, nothing.
    @Test func proxyMode() {
        var responder = DHCPResponder(networks: [lab(mode: .proxy)])
        let client = Self.pxe(7)
        let offer = responder.handle(client.message(.discover), on: eth0, now: t0).reply!
        #expect(offer.message.messageType == .offer && offer.message.yiaddr == .any)
        #expect(offer.message.options.text(.bootfileName) == "ipxe.efi" && offer.message.options.text(.vendorClass) == "PXEClient")
        #expect(offer.message.options[.vendorSpecific] == [6, 1, 8, 255])
        #expect(offer.message.options[.leaseTime] == nil && offer.destination == .broadcast)
        #expect(responder.handle(DHCPTestClient(2).message(.discover), on: eth0, now: t0).dropReason == .notNetbootClient)
        #expect(responder.handle(client.message(.request, requested: IPv4Address(10, 0, 0, 77)), on: eth0, now: t0).dropReason == .notNetbootClient)
        #expect(responder.tables["lab"]!.count == 0)
    }

    /// Port 4011: the boot server ACKs a PXE REQUEST back to where it came from.
    @Test func bootServer() {
        var responder = DHCPResponder(networks: [lab()])
        let client = Self.pxe(7)
        let ack = responder.handle(
            client.message(.request, ciaddr: IPv4Address(10, 0, 0, 120)), on: DHCPLink(interface: "eth0", isBootServer: true), now: t0
        ).reply!
        #expect(ack.message.messageType == .ack && ack.destination == .source && ack.message.yiaddr == .any)
        #expect(ack.message.options.text(.bootfileName) == "ipxe.efi")
        #expect(responder.tables["lab"]!.count == 0)
    }
}

extension DHCPMessage {
    static func fixedText(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
}
