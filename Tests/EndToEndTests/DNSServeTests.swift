import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `provision serve` with DNS zones: a machine enrolled through the API resolves by name and address
/// (dig), as does a DHCP reservation's host name; a zone file imported with `provision dns import` is
/// served, also when imported while the appliance runs; /metrics counts the queries.
@Suite struct DNSServeTests {
    static var digAvailable: Bool { RealServices.isCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/dig") }

    func dig(_ port: Int, _ arguments: [String]) async throws -> String {
        let result = try await ChildProcess.run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+time=1", "+tries=1"] + arguments)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Asks until there is an answer. The bound is generous: the store's watch makes a change near-instant,
    /// and the bound only stops a hang.
    func digUntilAnswered(_ port: Int, _ arguments: [String]) async throws -> String {
        let started = ContinuousClock.now
        var answer = ""
        while answer.isEmpty, ContinuousClock.now - started < .seconds(10) {
            answer = try await dig(port, arguments)
        }
        return answer
    }

    @Test(.enabled(if: digAvailable))
    func anEnrolledMachineResolvesAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (httpPort, dnsPort) = (try freeTCPPort(), try freeUDPPort())
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http:
              listen: 127.0.0.1:\(httpPort)
            tftp:
              enabled: false
            networks:
              - name: lab
                subnet: 10.0.0.0/24
                mode: off
                reservations:
                  - mac: 52:54:00:00:00:99
                    address: 10.0.0.99
                    hostname: printer
            dns:
              listen: 127.0.0.1:\(dnsPort)
              zones:
                - name: lab.
                  records:
                    - "ns IN A 10.0.0.1"
                - name: 0.0.10.in-addr.arpa.
            """)
        let zoneFile = try directory.write("imported.zone", """
            $ORIGIN imported.test.
            $TTL 600
            @   IN SOA ns1 hostmaster ( 42 3600 600 604800 60 )
                IN NS ns1
            ns1 IN A 192.0.2.53
            www IN CNAME ns1
            """)
        let imported = try await ChildProcess.run(ChildProcess.provisionBinary, ["dns", "import", "--config", config, zoneFile])
        #expect(imported.status == 0 && imported.output.contains("imported imported.test.: 4 records"), "\(imported.output)")

        let server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
        defer { if server.isRunning { server.signal(SIGKILL) } }
        let started = ContinuousClock.now
        while !server.text.contains("http: listening"), server.isRunning, ContinuousClock.now - started < .seconds(30) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await dig(dnsPort, ["ns.lab.", "A"]) == "10.0.0.1", "\(server.text)")
        #expect(try await dig(dnsPort, ["www.imported.test.", "A"]) == "ns1.imported.test.\n192.0.2.53")
        #expect(try await dig(dnsPort, ["node7.lab.", "A"]) == "")
        // A reservation's host name resolves before its machine ever asks for a lease.
        #expect(try await dig(dnsPort, ["printer.lab.", "A"]) == "10.0.0.99")
        #expect(try await dig(dnsPort, ["-x", "10.0.0.99"]) == "printer.lab.")

        // Imported while the appliance serves: the command writes to the same store file, and the running
        // appliance takes the change in (polled with a bound that only stops a hang).
        let late = try directory.write("late.zone", """
            $ORIGIN late.test.
            $TTL 600
            @   IN SOA ns1 hostmaster ( 1 3600 600 604800 60 )
                IN NS ns1
            ns1 IN A 192.0.2.54
            """)
        let lateImport = try await ChildProcess.run(ChildProcess.provisionBinary, ["dns", "import", "--config", config, late])
        #expect(lateImport.status == 0, "\(lateImport.output)")
        #expect(try await digUntilAnswered(dnsPort, ["ns1.late.test.", "A"]) == "192.0.2.54", "\(server.text)")
        #expect(try await dig(dnsPort, ["www.imported.test.", "A"]) == "ns1.imported.test.\n192.0.2.53")

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)/api/v1/machines")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"mac": "52:54:00:00:00:07", "hostname": "node7", "address": "10.0.0.77"}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 201)
        #expect(try await digUntilAnswered(dnsPort, ["node7.lab.", "A"]) == "10.0.0.77", "\(server.text)")
        #expect(try await dig(dnsPort, ["-x", "10.0.0.77"]) == "node7.lab.")
        #expect(try await dig(dnsPort, ["+tcp", "node7.lab.", "A"]) == "10.0.0.77")

        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains("dns_queries_total{transport=\"tcp\"} 1"), "\(metrics)")
        #expect(metrics.contains("dns_responses_total{rcode=\"NOERROR\"}"), "\(metrics)")

        server.signal(SIGTERM)
        #expect(await server.wait(timeout: .seconds(5)) == 0, "\(server.text)")
        #expect(server.text.contains("dns: stopped"))
    }
}
