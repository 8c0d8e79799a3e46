import Foundation
import Testing
import TestSupport

/// A real virtual machine network-boots from `provision serve`: QEMU with SeaBIOS and its iPXE option
/// ROM, and QEMU with OVMF's own UEFI PXE client, which first fetches ipxe.efi over TFTP. Both must end
/// with iPXE running the appliance's script for that machine, fetched over HTTP, and the machine must
/// be enrolled with a lease.
@Suite(.timeLimit(.minutes(6))) struct NetworkBootTests {
    enum Firmware: String, CaseIterable, Sendable { case bios, uefi }

    @Test(.enabled(if: RealServices.isCI || VMLab.available), arguments: Firmware.allCases)
    func aVirtualMachineBootsIntoItsScript(firmware: Firmware) async throws {
        let lab = try await VMLab()
        let directory = try TemporaryDirectory("vm-\(firmware)")
        do {
            try await boot(firmware, lab: lab, directory: directory)
        } catch {
            Issue.record(error)
        }
        await lab.remove()
        directory.remove()
    }

    private func boot(_ firmware: Firmware, lab: VMLab, directory: TemporaryDirectory) async throws {
        let mac = String(format: "52:54:00:%02x:%02x:%02x", UInt8.random(in: 0...255), UInt8.random(in: 0...255), UInt8.random(in: 0...255))
        try FileManager.default.createDirectory(atPath: directory.file("data/tftp"), withIntermediateDirectories: true)
        // The bytes, not the package's files: those are symlinks out of the root, which TFTP refuses.
        for (source, name) in [(VMLab.ipxeEFI, "ipxe.efi"), (VMLab.undionly, "undionly.kpxe")] {
            try Data(contentsOf: URL(fileURLWithPath: source)).write(to: URL(fileURLWithPath: directory.file("data/tftp/\(name)")))
        }
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.file("data"))
            log-level: debug
            http:
              listen: \(lab.serverAddress):8080
            tftp:
              listen: 0.0.0.0:69
              root: tftp
            networks:
              - name: vm
                subnet: \(lab.prefix).0/24
                interface: \(lab.tap)
                address: \(lab.serverAddress)
                pool: \(lab.prefix).100-\(lab.prefix).150
                router: \(lab.serverAddress)
                lease-time: 10m
            """)
        let server = try lab.start(ChildProcess.provisionBinary, ["serve", "--config", config])
        try await waitFor("dhcp: listening", in: server, timeout: .seconds(30))
        let guest = try lab.startGuest(firmware: firmware, mac: mac, directory: directory)

        // The script's first line, printed by iPXE on the guest's console.
        try await waitFor("Provision: ", in: guest, timeout: .seconds(240), server: server)
        #expect(guest.text.contains(mac), "the script is the one for this machine:\n\(guest.text)")
        if firmware == .uefi {
            #expect(server.text.contains("file=ipxe.efi"), "OVMF fetched iPXE over TFTP:\n\(server.text)")
        }
        let machines = try await lab.run(["curl", "-sS", "http://\(lab.serverAddress):8080/api/v1/views/machine?mac=\(mac)"])
        #expect(machines.contains(#""total":1"#) && machines.contains("discovered"), "\(machines)")
        let leases = try await lab.run(["curl", "-sS", "http://\(lab.serverAddress):8080/api/v1/views/lease?mac=\(mac)"])
        #expect(leases.contains(#""total":1"#) && leases.contains("\(lab.prefix).1"), "\(leases)")

        guest.signal(SIGKILL)
        server.signal(SIGTERM)
        #expect(await server.wait(timeout: .seconds(10)) == 0, "\(server.text)")
    }

    private func waitFor(_ text: String, in process: ChildProcess, timeout: Duration, server: ChildProcess? = nil) async throws {
        let deadline = ContinuousClock.now + timeout
        while !process.text.contains(text) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw VMLab.LabError(description: "no \"\(text)\" within \(timeout):\n\(process.text)\n--- appliance:\n\(server?.text ?? "")")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
