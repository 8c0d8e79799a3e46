import Foundation
import Net
import OSIS
@testable import Provision
import Testing
import TestSupport

/// Leases as `Lease` objects: what the responder reloads after a restart is what it stored, the client
/// identifier included (networks with `key-by-client-id` find the holder by it).
@Suite struct OSISDHCPLeaseStoreTests {
    @Test func leasesComeBackWithTheirClientIdentifier() async throws {
        let directory = try TemporaryDirectory("leasestore")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let store = OSISDHCPLeaseStore(objects: ObjectStore(kv: kv))
        let expires = Date(timeIntervalSince1970: 1_900_000_000)
        let leases = [
            DHCPLease(
                network: "lab", address: IPv4Address(10, 0, 0, 50), hardwareAddress: HardwareAddress(mac: "52:54:00:00:00:01")!,
                clientIdentifier: [0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0xFF], state: .bound, expires: expires, hostName: "node1"),
            DHCPLease(
                network: "lab", address: IPv4Address(10, 0, 0, 51), hardwareAddress: HardwareAddress(mac: "52:54:00:00:00:02")!,
                state: .bound, expires: expires),
        ]
        try await store.persist(leases)
        let loaded = try await store.loadLeases().sorted { $0.address < $1.address }
        #expect(loaded == leases)
        await kv.close()
    }

    @Test(arguments: ["", "0", "zz", "0g"])
    func malformedHexIsNoIdentifier(text: String) {
        #expect(OSISDHCPLeaseStore.bytes(hex: text) == (text.isEmpty ? [] : nil))
    }
}
