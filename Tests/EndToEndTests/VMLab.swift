import Foundation
import TestSupport

/// A network namespace with a tap device in it, for a QEMU guest to network-boot from an appliance
/// that runs in the same namespace: nothing the test does reaches the host's own networks.
/// `remove()` stops every process in the namespace and deletes it, which deletes the tap too.
struct VMLab: Sendable {
    struct LabError: Error, CustomStringConvertible { var description: String }

    static let qemu = "/usr/bin/qemu-system-x86_64"
    static let ipxeEFI = "/usr/lib/ipxe/ipxe.efi"
    static let undionly = "/usr/lib/ipxe/undionly.kpxe"
    static let ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
    static let ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"

    /// Whether QEMU, the iPXE binaries and OVMF are installed (`scripts/install-deps.sh vm`).
    static var available: Bool {
        getuid() == 0 && [qemu, ipxeEFI, undionly, ovmfCode, ovmfVars].allSatisfy(FileManager.default.fileExists)
    }

    let namespace: String
    let tap = "tap0"
    /// `10.X.Y.0/24`, random, so labs of concurrent runs never share a subnet.
    let prefix: String
    var serverAddress: String { "\(prefix).1" }

    init() async throws {
        let tag = String(UInt32(getpid()) & 0xffff, radix: 16) + String(UInt16.random(in: 0...0xfff), radix: 16)
        namespace = "pvvm-\(tag)"
        prefix = "10.\(UInt8.random(in: 160...250)).\(UInt8.random(in: 0...255))"
        try await Self.ip(["netns", "add", namespace])
        do {
            try await run(["ip", "link", "set", "lo", "up"])
            try await run(["ip", "tuntap", "add", tap, "mode", "tap"])
            try await run(["ip", "addr", "add", "\(serverAddress)/24", "dev", tap])
            try await run(["ip", "link", "set", tap, "up"])
        } catch {
            await remove()
            throw error
        }
    }

    /// Starts a long-running process inside the namespace.
    func start(_ executable: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments)
    }

    /// Runs a command inside the namespace to its end; throws on a non-zero exit.
    @discardableResult
    func run(_ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespace] + arguments)
        guard result.status == 0 else {
            throw LabError(description: "\(arguments.joined(separator: " ")): exit \(result.status): \(result.output)")
        }
        return result.output
    }

    /// A guest with `firmware`, one virtio NIC with `mac` on the tap, booting from the network.
    func startGuest(firmware: NetworkBootTests.Firmware, mac: String, directory: TemporaryDirectory) throws -> ChildProcess {
        // TCG, not KVM: nested KVM on CI machines is unreliable (old iPXE ROMs reset under it), and the
        // firmware needs little CPU. -nographic puts the serial console, where SeaBIOS, OVMF and iPXE
        // all print, on stdout.
        var arguments = ["-accel", "tcg", "-m", "512", "-nographic", "-no-user-config",
                         "-netdev", "tap,id=n0,ifname=\(tap),script=no,downscript=no"]
        switch firmware {
        case .bios:
            // SeaBIOS runs the NIC's iPXE option ROM: the first DHCP already says "iPXE".
            arguments += ["-device", "virtio-net-pci,netdev=n0,mac=\(mac)", "-boot", "n"]
        case .uefi:
            // No option ROM: OVMF's own PXE client (arch 7) asks first, fetches ipxe.efi over TFTP, and
            // that iPXE asks again.
            let vars = directory.file("OVMF_VARS.fd")
            try? FileManager.default.removeItem(atPath: vars)
            try FileManager.default.copyItem(atPath: Self.ovmfVars, toPath: vars)
            arguments += [
                "-drive", "if=pflash,format=raw,readonly=on,file=\(Self.ovmfCode)", "-drive", "if=pflash,format=raw,file=\(vars)",
                "-device", "virtio-net-pci,netdev=n0,mac=\(mac),romfile=",
            ]
        }
        return try start(Self.qemu, arguments)
    }

    func remove() async {
        if let pids = try? await ChildProcess.run("/usr/sbin/ip", ["netns", "pids", namespace]).output {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) { kill(pid, SIGKILL) }
        }
        _ = try? await ChildProcess.run("/usr/sbin/ip", ["netns", "del", namespace])
    }

    private static func ip(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run("/usr/sbin/ip", arguments)
        guard result.status == 0 else { throw LabError(description: "ip \(arguments.joined(separator: " ")): \(result.output)") }
    }
}
