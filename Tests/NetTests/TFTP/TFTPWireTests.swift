import NIOCore
import Foundation
import Net
import Testing
import TestSupport

/// The service on loopback, played byte by byte: TIDs, duplicates, retransmission, refusals, floods.
@Suite struct TFTPWireTests {
    static func withServer(
        _ configure: @escaping (inout TFTPService.Configuration) -> Void = { _ in },
        _ body: (TFTPTestServer, TemporaryDirectory) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory("tftp-wire")
        defer { directory.remove() }
        try directory.write("three-blocks", String(repeating: "abcdefgh", count: 160))  // 1280 bytes
        let server = try await TFTPTestServer.start(root: directory.path, configure: configure)
        defer { Task { await server.stop() } }
        try await body(server, directory)
        await server.stop()
    }

    /// Lock-step transfers run on a blocking socket of their own (threads: true) or, configured off, in a
    /// NIO channel like windows: the lock-step tests below run against both.
    static let adapters = [true, false]

    @Test(arguments: adapters)
    func strangerGetsError5AndTheTransferCarriesOn(threads: Bool) async throws {
        try await Self.withServer({ $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            let stranger = try UDPTestSocket()
            let first = try await Self.requestThreeBlocks(from: server, by: client)
            #expect(try TFTPPacket(first.bytes).opcode == .data)
            #expect(first.port != UInt16(server.port), "the transfer answers from its own port")

            stranger.send(TFTPPacket.ack(block: 1).byteArray, to: first.port)
            let error = try #require(await stranger.receive())
            #expect(try TFTPPacket(error.bytes) == .error(code: .unknownTransferID, message: "Unknown transfer ID"))

            let received = try await Array(first.bytes.dropFirst(4)) + Self.acknowledgeThreeBlocks(by: client, to: first.port)
            #expect(received.count == 1280)
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.completed("three-blocks").count == 1)
        }
    }

    /// The RRQ for "three-blocks": the first DATA, from the transfer's port.
    static func requestThreeBlocks(from server: TFTPTestServer, by client: UDPTestSocket) async throws -> (bytes: [UInt8], port: UInt16) {
        client.send(TFTPPacket.readRequest(TFTPRequest(filename: "three-blocks")).byteArray, to: UInt16(server.port))
        return try #require(await client.receive())
    }

    /// ACKs blocks 1 to 3, each DATA after the first in turn: the payloads of blocks 2 and 3.
    static func acknowledgeThreeBlocks(by client: UDPTestSocket, to port: UInt16) async throws -> [UInt8] {
        var received: [UInt8] = []
        for block: UInt16 in 1...3 {
            client.send(TFTPPacket.ack(block: block).byteArray, to: port)
            guard block < 3 else { break }
            guard case .data(let number, let payload) = try TFTPPacket(try #require(await client.receive(from: port))) else { throw Failure("not DATA") }
            #expect(number == block + 1)
            received += Array(payload.readableBytesView)
        }
        return received
    }

    /// A stranger's burst at the transfer's port, short of filling a socket buffer: every block still
    /// comes in turn, and the stranger hears ERROR 5, even though the transfer ends within the blocking
    /// adapter's 50 ms between looks (up to 64 answers a look; the rest wait in the socket's buffer).
    @Test(arguments: adapters)
    func aStrangersBurstDoesNotDisturbTheTransfer(threads: Bool) async throws {
        try await Self.withServer({ $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            let stranger = try UDPTestSocket()
            let first = try await Self.requestThreeBlocks(from: server, by: client)
            for _ in 0..<100 { stranger.send(TFTPPacket.ack(block: 1).byteArray, to: first.port) }
            #expect(try await Self.acknowledgeThreeBlocks(by: client, to: first.port).count == 1280 - 512)
            let answer = try #require(await stranger.receive())
            #expect(try TFTPPacket(answer.bytes) == .error(code: .unknownTransferID, message: "Unknown transfer ID"))
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.completed("three-blocks").count == 1)
        }
    }

    @Test(arguments: adapters)
    func duplicateAckIsNotAnsweredAndSilenceIsRetransmitted(threads: Bool) async throws {
        try await Self.withServer({ $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            // timeout=1: the first retransmission comes after 1 s (RFC 2349).
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: "three-blocks", options: ["timeout": "1"])).byteArray, to: UInt16(server.port))
            let oack = try #require(await client.receive())
            #expect(try TFTPPacket(oack.bytes) == .optionAck(["timeout": "1"]))
            client.send(TFTPPacket.ack(block: 0).byteArray, to: oack.port)
            _ = try #require(await client.receive(from: oack.port))
            // Timed from the ACK, not from when this task notices DATA 2: on a loaded machine the test's
            // own polling can lag the server by half a second.
            let started = ContinuousClock.now
            client.send(TFTPPacket.ack(block: 1).byteArray, to: oack.port)
            client.send(TFTPPacket.ack(block: 1).byteArray, to: oack.port)
            let second = try #require(await client.receive(from: oack.port))
            #expect(try TFTPPacket(second).opcode == .data)
            // The duplicate ACK 1 got nothing; the next DATA 2 is the timer's retransmission.
            let again = try #require(await client.receive(from: oack.port, timeout: .seconds(3)))
            #expect(again == second)
            #expect(ContinuousClock.now - started > .milliseconds(700))
        }
    }

    /// Packets that make no progress (a stranger's, here) keep arriving while the client is silent: the
    /// retransmission still comes when the timer is due, not after a quiet moment.
    @Test(arguments: adapters)
    func retransmissionIsNotHeldOffByOtherTraffic(threads: Bool) async throws {
        try await Self.withServer({ $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            let stranger = try UDPTestSocket()
            // Before the request: the retransmission is due 1 s after the OACK, which comes after it.
            let started = ContinuousClock.now
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: "three-blocks", options: ["timeout": "1"])).byteArray, to: UInt16(server.port))
            let oack = try #require(await client.receive())
            let noise = Task {
                while !Task.isCancelled {
                    stranger.send(TFTPPacket.ack(block: 0).byteArray, to: oack.port)
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            defer { noise.cancel() }
            // The noise goes on until the test ends, so a timer that each packet held off would never fire
            // here. How late it may be is not asserted: a CI run with every suite starting at once on two
            // cores once kept the test's event loop from it for over 2 s.
            let again = try #require(await client.receive(from: oack.port, timeout: .seconds(10)))
            #expect(again == oack.bytes)
            #expect(ContinuousClock.now - started > .milliseconds(900), "due after 1 s")
        }
    }

    /// A window goes out as one GSO write where the kernel can: the client still gets one datagram per
    /// block, each with its own header, the short last block included. Run with GSO on and off.
    @Test(arguments: [true, false])
    func windowsArriveAsSeparateDatagrams(offload: Bool) async throws {
        try await Self.withServer({ $0.segmentationOffload = offload }) { server, directory in
            try directory.write("seven", String(repeating: "0123456789", count: 65))  // 650 bytes: 6 blocks of 100, then 50
            let client = try UDPTestSocket()
            let request = TFTPRequest(filename: "seven", options: ["blksize": "100", "windowsize": "4"])
            client.send(TFTPPacket.readRequest(request).byteArray, to: UInt16(server.port))
            let oack = try #require(await client.receive())
            #expect(try TFTPPacket(oack.bytes) == .optionAck(["blksize": "100", "windowsize": "4"]))
            var blocks: [UInt16: Int] = [:]
            client.send(TFTPPacket.ack(block: 0).byteArray, to: oack.port)
            for _ in 0..<4 {
                guard case .data(let number, let payload) = try TFTPPacket(try #require(await client.receive(from: oack.port))) else { throw Failure("not DATA") }
                blocks[number] = payload.readableBytes
            }
            client.send(TFTPPacket.ack(block: 4).byteArray, to: oack.port)
            for _ in 0..<3 {
                guard case .data(let number, let payload) = try TFTPPacket(try #require(await client.receive(from: oack.port))) else { throw Failure("not DATA") }
                blocks[number] = payload.readableBytes
            }
            #expect(blocks == [1: 100, 2: 100, 3: 100, 4: 100, 5: 100, 6: 100, 7: 50])
            client.send(TFTPPacket.ack(block: 7).byteArray, to: oack.port)
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.completed("seven").count == 1)
        }
    }

    /// Windows of blocks too large for GSO to pack run on the blocking socket when threads are on: every
    /// block arrives whole, and an ACK inside a window restarts the window after it (RFC 7440 §4).
    @Test(arguments: adapters)
    func largeBlockWindowsRestartAfterAnAckInsideTheWindow(threads: Bool) async throws {
        let limits = TFTPLimits(maxWindowBytes: 1 << 20)
        try await Self.withServer({ $0.limits = limits; $0.socketThreads = threads }) { server, directory in
            let content = (0..<200_123).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }  // 5 blocks of 40,000, then 123
            try Data(content).write(to: URL(fileURLWithPath: directory.path + "/large"))
            let client = try UDPTestSocket()
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: "large", options: ["blksize": "40000", "windowsize": "3"])).byteArray, to: UInt16(server.port))
            let oack = try #require(await client.receive())
            let answer = try TFTPPacket(oack.bytes)
            #expect(answer == .optionAck(["blksize": "40000", "windowsize": "3"]))
            func window(acking block: UInt16, expecting numbers: [UInt16]) async throws {
                client.send(TFTPPacket.ack(block: block).byteArray, to: oack.port)
                for number in numbers {
                    guard case .data(let got, let payload) = try TFTPPacket(try #require(await client.receive(from: oack.port))) else { throw Failure("not DATA") }
                    #expect(got == number)
                    let start = (Int(number) - 1) * 40000
                    #expect(Array(payload.readableBytesView) == Array(content[start..<min(start + 40000, content.count)]), "block \(number)")
                }
            }
            try await window(acking: 0, expecting: [1, 2, 3])
            try await window(acking: 1, expecting: [2, 3, 4])  // as if block 2 was lost
            try await window(acking: 4, expecting: [5, 6])
            client.send(TFTPPacket.ack(block: 6).byteArray, to: oack.port)
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.completed("large").count == 1)
            #expect(await client.receive(from: oack.port, timeout: .milliseconds(200)) == nil, "nothing after the last ACK")
        }
    }

    @Test(arguments: adapters)
    func oackNeverAcknowledgedIsRetransmittedThenAbandoned(threads: Bool) async throws {
        let limits = TFTPLimits(timeout: .milliseconds(100), maxTimeout: .milliseconds(200), maxRetries: 2)
        try await Self.withServer({ $0.limits = limits; $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: "three-blocks", options: ["tsize": "0"])).byteArray, to: UInt16(server.port))
            // Up to the ERROR that ends it, each packet waited for with the socket's full 5 s: a CI run with
            // every suite starting at once stalled the machine for 9 s, past a 1 s wait for the first OACK.
            var packets: [TFTPPacket] = []
            while packets.last?.opcode != .error, let datagram = await client.receive() { packets.append(try TFTPPacket(datagram.bytes)) }
            #expect(packets == Array(repeating: .optionAck(["tsize": "1280"]), count: 3) + [.error(code: .notDefined, message: "Timed out")])
            // The transfer records its end after it sends the ERROR, so the client can be first.
            try await eventually { server.events.events.contains { $0.file == "three-blocks" && $0.outcome == .failed(.timedOut) } }
        }
    }

    @Test func refusals() async throws {
        try await Self.withServer { server, _ in
            let client = try UDPTestSocket()
            let cases: [(TFTPPacket, TFTPErrorCode)] = [
                (.readRequest(TFTPRequest(filename: "../etc/passwd")), .accessViolation),
                (.readRequest(TFTPRequest(filename: "/etc/passwd")), .accessViolation),
                (.readRequest(TFTPRequest(filename: "a\\b")), .accessViolation),
                (.readRequest(TFTPRequest(filename: "missing")), .fileNotFound),
                (.readRequest(TFTPRequest(filename: "three-blocks", mode: "mail")), .illegalOperation),
                (.writeRequest(TFTPRequest(filename: "upload")), .accessViolation),
            ]
            for (request, code) in cases {
                client.send(request.byteArray, to: UInt16(server.port))
                let reply = try #require(await client.receive(timeout: .seconds(10)))
                guard case .error(let got, _) = try TFTPPacket(reply.bytes) else { throw Failure("not ERROR") }
                #expect(got == code, "\(request)")
            }
            // Malformed and stray packets get nothing.
            for junk: [UInt8] in [[0, 1, 0x61], [0, 9], [0, 4, 0, 1], []] { client.send(junk, to: UInt16(server.port)) }
            #expect(await client.receive(timeout: .milliseconds(300)) == nil)
        }
    }

    @Test func longRequestsAreRead() async throws {
        try await Self.withServer { server, _ in
            let client = try UDPTestSocket()
            let name = String(repeating: "d/", count: 100) + "missing"
            let options = TFTPOptionList((0..<20).map { .init("x-unknown-\($0)", "value") } + [.init("blksize", "1024")])
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: name, options: options)).byteArray, to: UInt16(server.port))
            let reply = try #require(await client.receive())
            #expect(try TFTPPacket(reply.bytes) == .error(code: .fileNotFound, message: "File not found"))
        }
    }

    @Test func floodsOfRequestsAreRateLimited() async throws {
        try await Self.withServer({ $0.requestBurst = 5; $0.requestsPerSecond = 1 }) { server, _ in
            // One address, fifty ports: fifty requests (from one port they would be one request sent again).
            // 127.0.0.2 has a bucket of its own, untouched by the readiness probes from 127.0.0.1.
            let clients = try (0..<50).map { _ in try UDPTestSocket(host: "127.0.0.2") }
            let sent = ContinuousClock.now
            for client in clients { client.send(TFTPPacket.readRequest(TFTPRequest(filename: "missing")).byteArray, to: UInt16(server.port)) }
            let sending = ContinuousClock.now - sent
            // Dropped requests stay unanswered: wait until the burst is in and nothing more came for a while.
            var answered = Set<Int>()
            var lastAnswer = ContinuousClock.now
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, answered.count < 5 || ContinuousClock.now - lastAnswer < .milliseconds(500) {
                for (index, client) in clients.enumerated() where !answered.contains(index) {
                    if await client.receive(timeout: .milliseconds(1)) != nil {
                        answered.insert(index)
                        lastAnswer = .now
                    }
                }
            }
            // The burst, plus one a second for however long the fifty took to send (and one for rounding).
            let refilled = Int(sending / .seconds(1)) + 1
            #expect(answered.count >= 5 && answered.count <= 5 + refilled, "\(answered.count) answered")
        }
    }

    @Test(arguments: adapters)
    func shutdownTellsTheClient(threads: Bool) async throws {
        try await Self.withServer({ $0.socketThreads = threads }) { server, _ in
            let client = try UDPTestSocket()
            client.send(TFTPPacket.readRequest(TFTPRequest(filename: "three-blocks")).byteArray, to: UInt16(server.port))
            let first = try #require(await client.receive())
            await server.stop()
            let last = try #require(await client.receive(from: first.port))
            #expect(try TFTPPacket(last) == .error(code: .notDefined, message: "Server shutting down"))
        }
    }

    @Test func virtualFilesAreServedPerClient() async throws {
        let directory = try TemporaryDirectory("tftp-virtual-wire")
        defer { directory.remove() }
        let templates = TemplateVirtualFiles([.init("pxelinux.cfg/01-{mac}", "DEFAULT {{mac}} from {{client}}\n")])
        let server = try await TFTPTestServer.start(
            root: directory.path, files: VirtualFileSource(provider: templates, fallback: try TFTPRootDirectory(path: directory.path)))
        defer { Task { await server.stop() } }
        let client = try UDPTestSocket()
        client.send(TFTPPacket.readRequest(TFTPRequest(filename: "pxelinux.cfg/01-52-54-00-77-00-01")).byteArray, to: UInt16(server.port))
        let data = try #require(await client.receive())
        #expect(try TFTPPacket(data.bytes) == .data(block: 1, payload: .init(string: "DEFAULT 52:54:00:77:00:01 from 127.0.0.1\n")))
        client.send(TFTPPacket.ack(block: 1).byteArray, to: data.port)
        await server.stop()
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
