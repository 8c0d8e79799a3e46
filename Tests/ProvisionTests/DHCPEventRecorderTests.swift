import Net
@testable import Provision
import Testing
import Workflow

/// A DHCP exchange becomes one boot-trace event, named by its reply (or by its request without one),
/// with both sides in the data.
@Suite struct DHCPEventRecorderTests {
    static let mac = HardwareAddress(mac: "52:54:00:00:00:01")!

    @Test func anAnsweredExchangeIsNamedByItsReply() {
        let exchange = DHCPExchangeEvent(
            outcome: .replied, request: .request, reply: .ack, hardwareAddress: Self.mac, xid: 0xABC,
            requestedAddress: IPv4Address(10, 0, 0, 50), address: IPv4Address(10, 0, 0, 50), architecture: .uefiX64, detail: "ipxe.efi")
        let event = DHCPEventRecorder.event(exchange)
        #expect(event.type == "dhcp.ack")
        #expect(event.machine == "52:54:00:00:00:01")
        #expect(event.message == "REQUEST from 52:54:00:00:00:01 xid 0xabc for 10.0.0.50: ACK 10.0.0.50 (ipxe.efi)")
        #expect(
            event.data == [
                "outcome": "replied", "request": "request", "reply": "ack", "xid": "0xabc", "requested-address": "10.0.0.50",
                "address": "10.0.0.50", "architecture": "\(PXEArchitecture.uefiX64)", "detail": "ipxe.efi",
            ])
    }

    @Test func anUnansweredExchangeIsNamedByItsRequest() {
        let exchange = DHCPExchangeEvent(outcome: .handled, request: .discover, hardwareAddress: Self.mac, xid: 1, vendorClass: "PXEClient")
        let event = DHCPEventRecorder.event(exchange.dropped("not_reserved"))
        #expect(event.type == "dhcp.discover")
        #expect(event.message == "DISCOVER from 52:54:00:00:00:01 xid 0x1: no reply (not_reserved)")
        #expect(event.data == ["outcome": "dropped", "request": "discover", "xid": "0x1", "vendor-class": "PXEClient", "detail": "not_reserved"])
    }
}
