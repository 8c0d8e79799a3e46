import Foundation
import Net
import OSIS

/// DHCP leases kept in OSIS as `Lease` objects (`<network>-<address>`): loaded when the responder
/// starts, and written in one transaction per decision before the ACK that announces them leaves.
struct OSISDHCPLeaseStore: DHCPLeaseStore {
    let objects: ObjectStore

    func loadLeases() async throws -> [DHCPLease] {
        try await objects.all(Lease.self).compactMap { stored in
            let lease = stored.object
            guard let address = IPv4Address(lease.address), let mac = HardwareAddress(mac: lease.mac),
                let state = DHCPLease.State(rawValue: lease.state.rawValue)
            else { return nil }
            return DHCPLease(
                network: lease.network, address: address, hardwareAddress: mac, clientIdentifier: lease.clientID.flatMap(Self.bytes(hex:)),
                state: state, expires: lease.expiresAt, hostName: lease.hostname)
        }
    }

    func persist(_ leases: [DHCPLease]) async throws {
        let writes = try leases.map { lease throws(OSISError) in
            try ObjectWrite.put(
                Lease(
                    network: lease.network, address: "\(lease.address)", mac: "\(lease.hardwareAddress)",
                    state: Lease.State(rawValue: lease.state.rawValue) ?? .bound, hostname: lease.hostName, expiresAt: lease.expires,
                    clientID: lease.clientIdentifier.map(Self.hex)))
        }
        _ = try await objects.commit(writes)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.hexDigits()
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return try? stride(from: 0, to: digits.count, by: 2).map { index throws(CocoaError) in
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { throw CocoaError(.coderInvalidValue) }
            return byte
        }
    }
}
