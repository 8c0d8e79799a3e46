import Foundation
import Testing
import TestSupport

/// `provision serve` with a DHCP network on a veth pair between two namespaces the test creates: udhcpc,
/// posing as iPXE on UEFI, gets a lease and the script URL; the lease is an OSIS object, the MAC an enrolled
/// machine in state `discovered`, the exchange in its events; the script says to wait; after a restart the
/// same MAC gets the same address. Needs root and udhcpc (`scripts/install-deps.sh dhcp`).
@Suite struct DHCPServeTests {
    static var available: Bool {
        getuid() == 0 && (RealServices.isCI || FileManager.default.isExecutableFile(atPath: "/usr/sbin/udhcpc"))
    }

    @Test(.enabled(if: available))
    func leasesEnrollsAndSurvivesARestart() async throws {
        let directory = try TemporaryDirectory()
        let tag = String(UInt32(getpid()) & 0xffff, radix: 16) + String(UInt16.random(in: 0...0xfff), radix: 16)
        let (server, client, serverIf, clientIf) = ("pvds-\(tag)", "pvdc-\(tag)", "pves\(tag)", "pvec\(tag)")
        func ip(_ arguments: [String]) async throws {
            let result = try await ChildProcess.run("/usr/sbin/ip", arguments)
            try #require(result.status == 0, "ip \(arguments.joined(separator: " ")): \(result.output)")
        }
        defer {
            _ = try? runCommand("/usr/sbin/ip", ["netns", "del", server])
            _ = try? runCommand("/usr/sbin/ip", ["netns", "del", client])
            directory.remove()
        }
        try await ip(["netns", "add", server])
        try await ip(["netns", "add", client])
        try await ip(["link", "add", serverIf, "netns", server, "type", "veth", "peer", "name", clientIf, "netns", client])
        try await ip(["-n", server, "addr", "add", "10.66.0.1/24", "dev", serverIf])
        for (namespace, interface) in [(server, serverIf), (client, clientIf), (server, "lo"), (client, "lo")] {
            try await ip(["-n", namespace, "link", "set", interface, "up"])
        }
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http:
              listen: 127.0.0.1:8080
            tftp:
              enabled: false
            networks:
              - name: lab
                interface: \(serverIf)
                address: 10.66.0.1
                subnet: 10.66.0.0/24
                pool: 10.66.0.100-10.66.0.150
                router: 10.66.0.1
                domain: lab.example
            """)
        let script = try directory.write("udhcpc.sh", "#!/bin/sh\n[ \"$1\" = bound ] && env > \"\(directory.path)/bound.env\"\nexit 0\n")
        chmod(script, 0o755)

        func serve(_ body: () async throws -> Void) async throws {
            let appliance = try ChildProcess("/usr/sbin/ip", ["netns", "exec", server, ChildProcess.provisionBinary, "serve", "--config", config])
            defer { if appliance.isRunning { appliance.signal(SIGKILL) } }
            let deadline = ContinuousClock.now + .seconds(30)
            // Both responders must be up; the DHCP one can start after HTTP's, so wait for both lines.
            while !(appliance.text.contains("http: listening") && appliance.text.contains("dhcp: listening")), appliance.isRunning,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(appliance.text.contains("dhcp: listening"), "\(appliance.text)")
            try await body()
            appliance.signal(SIGTERM)
            #expect(await appliance.wait(timeout: .seconds(10)) == 0, "\(appliance.text)")
        }
        func lease() async throws -> [String: String] {
            try? FileManager.default.removeItem(atPath: directory.file("bound.env"))
            let result = try await ChildProcess.run(
                "/usr/sbin/ip",
                ["netns", "exec", client, "/usr/sbin/udhcpc", "-i", clientIf, "-n", "-q", "-f", "-t", "5", "-T", "2", "-s", script,
                 "-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007", "-x", "0x4d:69505845"])
            try #require(result.status == 0, "\(result.output)")
            var values: [String: String] = [:]
            for line in try String(contentsOfFile: directory.file("bound.env"), encoding: .utf8).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            return values
        }
        func get(_ path: String) async throws -> String {
            try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", server, "/usr/bin/curl", "-sS", "http://127.0.0.1:8080" + path]).output
        }
        let macResult = try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", client, "cat", "/sys/class/net/\(clientIf)/address"])
        let clientMAC = macResult.output.trimmingCharacters(in: .whitespacesAndNewlines)

        var first = ""
        try await serve {
            let values = try await lease()
            first = values["ip"] ?? ""
            #expect(first == "10.66.0.100", "\(values)")
            #expect(values["boot_file"] == "http://10.66.0.1:8080/boot/\(clientMAC.replacingOccurrences(of: ":", with: "-")).ipxe")
            #expect(values["domain"] == "lab.example")
            #expect(try await get("/api/v1/views/lease").contains(#""mac":"\#(clientMAC)","network":"lab","state":"bound""#))
            var machines = ""
            for _ in 0..<300 {
                machines = try await get("/api/v1/views/machine")
                if machines.contains(clientMAC) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(machines.contains(#""architecture":"uefi-x64""#) && machines.contains(#""state":"discovered""#), "\(machines)")
            #expect(try await get("/api/v1/views/event?machine=\(clientMAC)").contains("dhcp.ack"))
            #expect(try await get("/boot/\(clientMAC).ipxe").hasPrefix("#!ipxe\n"))
            #expect(try await get("/metrics").contains("dhcp_leases_persisted_total 1"))
        }
        try await serve {
            let again = try await lease()
            #expect(again["ip"] == first, "the same MAC gets its address back after a restart")
        }
    }
}

/// Runs a command to completion, synchronously; for clean-up in `defer`.
private func runCommand(_ executable: String, _ arguments: [String]) throws {
    try ChildProcess.runSynchronously(executable, arguments)
}
