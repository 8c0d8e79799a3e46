#if canImport(Glibc)
import Glibc
#endif

/// The host's interfaces by index, with their IPv4 addresses: what IP_PKTINFO's interface index means.
struct DHCPInterfaces: Sendable {
    struct Interface: Sendable, Hashable {
        var name: String
        var addresses: [IPv4Address]
    }

    private(set) var byIndex: [Int: Interface] = [:]

    /// Reads the current table (getifaddrs(3)); interfaces come and go, so the adapter refreshes it
    /// when it meets an index it does not know.
    static func current() -> DHCPInterfaces {
        var table = DHCPInterfaces()
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return table }
        defer { freeifaddrs(first) }
        var next = first
        while let entry = next {
            defer { next = entry.pointee.ifa_next }
            guard let cName = entry.pointee.ifa_name else { continue }
            let name = String(cString: cName)
            let index = Int(if_nametoindex(cName))
            var interface = table.byIndex[index] ?? Interface(name: name, addresses: [])
            if let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) {
                let value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                interface.addresses.append(IPv4Address(value))
            }
            table.byIndex[index] = interface
        }
        return table
    }

    func index(of name: String) -> Int? { byIndex.first { $0.value.name == name }?.key }
}
