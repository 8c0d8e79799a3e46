#if canImport(Glibc)
import Glibc
#endif

/// Adds a permanent-until-expiry ARP entry (SIOCSARP, as dnsmasq does) so a reply can go unicast to an
/// address the client does not have yet (RFC 2131 §4.1, "…unicasts DHCPOFFER and DHCPACK messages to the
/// client hardware address and 'yiaddr' address").
enum DHCPARP {
    /// False when the kernel refused (no such interface, not permitted): the caller broadcasts instead.
    static func set(_ address: IPv4Address, _ hardware: HardwareAddress, interface: String) -> Bool {
        guard hardware.type == 1, hardware.bytes.count == 6, interface.utf8.count < 16 else { return false }
        // struct arpreq (<net/if_arp.h>): arp_pa, arp_ha, arp_flags, arp_netmask, arp_dev[16].
        var request = [UInt8](repeating: 0, count: 68)
        request[0] = UInt8(AF_INET & 0xff)  // sockaddr_in.sin_family, little-endian on the hosts we run on
        request.replaceSubrange(4..<8, with: address.octets)
        request[16] = 1  // ARPHRD_ETHER
        request.replaceSubrange(18..<24, with: hardware.bytes)
        request[32] = 0x02  // ATF_COM
        request.replaceSubrange(52..<52 + interface.utf8.count, with: Array(interface.utf8))
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return request.withUnsafeMutableBytes { ioctl(fd, UInt(0x8955), $0.baseAddress!) } == 0  // SIOCSARP
    }
}
