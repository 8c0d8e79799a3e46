import Foundation
import NIOCore
import Net
import Testing
import TestSupport

/// dig, kdig and drill against the responder over UDP and TCP: every record type it serves, negative
/// answers, truncation retried over TCP, and zone transfers. Under CI=true a missing client fails.
@Suite(.serialized) struct DNSClientInteropTests {
    static func path(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var clientsAvailable: Bool { RealServices.isCI || ["dig", "kdig", "drill"].allSatisfy { path($0) != nil } }

    struct Query: Sendable, CustomStringConvertible {
        var name: String
        var type: String
        var status: String = "NOERROR"
        /// Records the answer section must hold, in zone text with single spaces.
        var answer: [String] = []
        var description: String { "\(name) \(type)" }
    }

    static let queries: [Query] = [
        Query(name: "pxe1.lab.", type: "A", answer: ["pxe1.lab. 300 IN A 10.0.0.21"]),
        Query(name: "pxe1.lab.", type: "AAAA", answer: ["pxe1.lab. 300 IN AAAA fd00::21"]),
        Query(name: "21.0.0.10.in-addr.arpa.", type: "PTR", answer: ["21.0.0.10.in-addr.arpa. 300 IN PTR pxe1.lab."]),
        Query(name: "lab.", type: "SOA", answer: ["lab. 3600 IN SOA ns1.lab. hostmaster.lab. 7 3600 600 604800 60"]),
        Query(name: "lab.", type: "NS", answer: ["lab. 3600 IN NS ns1.lab."]),
        Query(name: "lab.", type: "MX", answer: ["lab. 300 IN MX 10 mail.lab."]),
        Query(name: "lab.", type: "TXT", answer: ["lab. 300 IN TXT \"provision test zone\""]),
        Query(name: "_http._tcp.lab.", type: "SRV", answer: ["_http._tcp.lab. 300 IN SRV 0 5 8080 pxe1.lab."]),
        Query(name: "www.lab.", type: "A", answer: ["www.lab. 300 IN CNAME pxe1.lab.", "pxe1.lab. 300 IN A 10.0.0.21"]),
        Query(name: "nope.lab.", type: "A", status: "NXDOMAIN"),
        Query(name: "pxe1.lab.", type: "MX", status: "NOERROR"),
        Query(name: "example.com.", type: "A", status: "REFUSED"),
    ]

    /// Output lines with blanks squeezed, so dig's, kdig's and drill's layouts compare alike.
    static func lines(_ output: String) -> [String] {
        output.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
    }

    func run(_ client: String, _ query: Query, tcp: Bool, port: Int) async throws -> String {
        let tool = try #require(Self.path(client), "\(client) is not installed: run `scripts/install-deps.sh dns`")
        let arguments: [String]
        switch client {
        case "dig": arguments = ["@127.0.0.1", "-p", "\(port)", query.name, query.type, "+norec", "+time=2", "+tries=1"] + (tcp ? ["+tcp"] : [])
        case "kdig": arguments = ["@127.0.0.1", "-p", "\(port)", query.name, query.type, "+norec", "+time=2", "+retry=0"] + (tcp ? ["+tcp"] : [])
        default: arguments = ["-p", "\(port)", "-o", "rd"] + (tcp ? ["-t"] : ["-u"]) + [query.name, query.type, "@127.0.0.1"]
        }
        let result = try await ChildProcess.run(tool, arguments, timeout: .seconds(20))
        #expect(result.status == 0, "\(client) \(arguments): \(result.output)")
        return result.output
    }

    @Test(.enabled(if: clientsAvailable), arguments: ["dig", "kdig", "drill"])
    func answersEveryTypeOverUDPAndTCP(client: String) async throws {
        let server = try await DNSTestServer.start()
        defer { Task { await server.stop() } }
        for tcp in [false, true] {
            for query in Self.queries {
                let output = try await run(client, query, tcp: tcp, port: server.port)
                let lines = Self.lines(output)
                // dig and kdig say "status: X", drill "rcode: X".
                #expect(lines.contains { $0.contains("status: \(query.status)") || $0.contains("rcode: \(query.status)") }, "\(client) \(query) tcp=\(tcp): \(output)")
                for record in query.answer {
                    #expect(lines.contains(record), "\(client) \(query) tcp=\(tcp): \(output)")
                }
                if query.status == "NXDOMAIN" || (query.answer.isEmpty && query.status == "NOERROR") {
                    #expect(lines.contains { $0.hasPrefix("lab. 60 IN SOA ns1.lab.") }, "SOA in authority: \(output)")
                }
            }
        }
        await server.stop()
    }

    @Test(.enabled(if: clientsAvailable))
    func truncatedAnswersAreRetriedOverTCP() async throws {
        let server = try await DNSTestServer.start()
        let dig = try #require(Self.path("dig"))
        let result = try await ChildProcess.run(dig, ["@127.0.0.1", "-p", "\(server.port)", "big.lab.", "TXT", "+noedns", "+time=2"])
        #expect(result.output.contains("Truncated, retrying in TCP mode"), "\(result.output)")
        #expect(Self.lines(result.output).filter { $0.hasPrefix("big.lab. 60 IN TXT") }.count == 12, "\(result.output)")
        // With EDNS at 4096 the answer fits in one datagram.
        let edns = try await ChildProcess.run(dig, ["@127.0.0.1", "-p", "\(server.port)", "big.lab.", "TXT", "+bufsize=4096", "+time=2"])
        #expect(!edns.output.contains("Truncated"), "\(edns.output)")
        await server.stop()
    }

    @Test(.enabled(if: clientsAvailable))
    func transfersTheZoneToAllowedClients() async throws {
        let server = try await DNSTestServer.start()
        let expected = DNSTestServer.zones[DNSName("lab.")!]!.count + 1
        let dig = try await ChildProcess.run(try #require(Self.path("dig")), ["@127.0.0.1", "-p", "\(server.port)", "lab.", "AXFR"])
        #expect(dig.output.contains("XFR size: \(expected) records"), "\(dig.output)")
        let kdig = try await ChildProcess.run(try #require(Self.path("kdig")), ["@127.0.0.1", "-p", "\(server.port)", "lab.", "AXFR"])
        #expect(kdig.output.contains("Received") && Self.lines(kdig.output).filter { $0.contains(" IN SOA ") }.count == 2, "\(kdig.output)")
        await server.stop()

        let closed = try await DNSTestServer.start(transfer: [])
        let refused = try await ChildProcess.run(try #require(Self.path("dig")), ["@127.0.0.1", "-p", "\(closed.port)", "lab.", "AXFR"])
        #expect(refused.output.contains("Transfer failed") || refused.output.contains("REFUSED"), "\(refused.output)")
        await closed.stop()
    }

    @Test(.enabled(if: clientsAvailable))
    func forwardsOtherNamesToTheUpstream() async throws {
        let upstreamZone = DNSTestZones.zone("example. 3600 IN SOA ns.example. h.example. 1 3600 600 604800 60\nwww.example. 60 IN A 192.0.2.80")
        let upstream = try await DNSTestServer.start(zones: DNSZoneSet([upstreamZone]))
        let server = try await DNSTestServer.start(upstreams: [ListenAddress(host: "127.0.0.1", port: upstream.port)])
        let dig = try #require(Self.path("dig"))
        for transport in ["+notcp", "+tcp"] {
            let forwarded = try await ChildProcess.run(dig, ["@127.0.0.1", "-p", "\(server.port)", "www.example.", "A", transport, "+time=3"])
            #expect(Self.lines(forwarded.output).contains("www.example. 60 IN A 192.0.2.80"), "\(forwarded.output)")
            #expect(forwarded.output.contains(" ra"), "recursion available: \(forwarded.output)")
        }
        // Without RD nothing is forwarded.
        let plain = try await ChildProcess.run(dig, ["@127.0.0.1", "-p", "\(server.port)", "www.example.", "A", "+norec", "+time=3"])
        #expect(plain.output.contains("status: REFUSED"), "\(plain.output)")
        await server.stop()
        await upstream.stop()
    }

    /// An upstream answer too big for UDP reaches the client whole: relayed truncated over UDP, then the
    /// client's retry over TCP is relayed over TCP.
    @Test(.enabled(if: clientsAvailable))
    func forwardsOverTCPWhenTheAnswerIsTruncated() async throws {
        var upstreamZone = DNSTestZones.zone("example. 3600 IN SOA ns.example. h.example. 1 3600 600 604800 60")
        for index in 1...12 {
            try upstreamZone.add(try DNSResourceRecord(zoneLine: "big.example. 60 IN TXT \"record \(index) of a set that does not fit in 512 bytes\""))
        }
        let upstream = try await DNSTestServer.start(zones: DNSZoneSet([upstreamZone]))
        let server = try await DNSTestServer.start(upstreams: [ListenAddress(host: "127.0.0.1", port: upstream.port)])
        let dig = try #require(Self.path("dig"))
        let query = ["@127.0.0.1", "-p", "\(server.port)", "big.example.", "TXT", "+noedns", "+time=3"]
        // Kept as it came: the client sees TC and a partial answer over UDP.
        let truncated = try await ChildProcess.run(dig, query + ["+ignore"])
        #expect(truncated.output.contains(" tc "), "\(truncated.output)")
        #expect(Self.lines(truncated.output).filter { $0.hasPrefix("big.example.") && $0.contains("IN TXT") }.count < 12, "\(truncated.output)")
        // dig retries over TCP on its own; that retry is relayed over TCP and gets every record.
        for options in [[], ["+tcp"]] {
            let whole = try await ChildProcess.run(dig, query + options)
            #expect(Self.lines(whole.output).filter { $0.hasPrefix("big.example.") && $0.contains("IN TXT") }.count == 12, "\(whole.output)")
            #expect(!whole.output.contains(" tc "), "\(whole.output)")
        }
        await server.stop()
        await upstream.stop()
    }

    // MARK: TCP framing, without a client tool

    @Test func answersPipelinedQueriesInOrderAndClosesIdleConnections() async throws {
        let server = try await DNSTestServer.start(idle: .milliseconds(300))
        let client = try TCPTestClient(port: server.port)
        let queries = (1...5).map { id in
            Array(DNSMessage(header: DNSHeader(id: UInt16(id)), questions: [DNSQuestion(name: DNSName("pxe1.lab.")!, type: .a)]).bytes().readableBytesView)
        }
        client.send(queries)
        var ids: [UInt16] = []
        for _ in queries {
            let reply = try DNSMessage(parsing: try #require(client.receive()))
            ids.append(reply.header.id)
            #expect(reply.answers.map(\.data) == [.a(IPv4Address(10, 0, 0, 21))])
        }
        #expect(ids == [1, 2, 3, 4, 5])
        // Nothing more is sent: the server closes the connection after the idle timeout.
        #expect(client.receive() == nil)
        await server.stop()
    }

    @Test func garbageOnTCPClosesTheConnection() async throws {
        let server = try await DNSTestServer.start()
        let client = try TCPTestClient(port: server.port)
        client.send([[1, 2, 3]])
        #expect(client.receive() == nil)
        await server.stop()
    }
}
