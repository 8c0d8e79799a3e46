import Foundation
import Net
import NIOCore
import Testing
import TestSupport

/// Uploads: confined like reads, never replacing a file unless allowed, visible only when complete; and
/// real clients (tftp-hpa `put`, curl `-T`, atftp `-p` with windows) send files byte-identical.
@Suite(.serialized) struct TFTPUploadTests {
    @Test func namesAreConfinedAndExistingFilesKept() throws {
        let directory = try TemporaryDirectory("tftp-uploads")
        defer { directory.remove() }
        for folder in ["in", "outside"] {
            try FileManager.default.createDirectory(atPath: directory.file(folder), withIntermediateDirectories: true)
        }
        try directory.write("in/kept", "old")
        try directory.write("outside/x", "")
        try FileManager.default.createSymbolicLink(atPath: directory.file("in/out"), withDestinationPath: directory.file("outside"))
        let uploads = try TFTPUploadDirectory(path: directory.file("in"))
        for (name, error) in [
            ("../x", TFTPFileError.accessViolation("'..' in path")), ("/etc/x", .accessViolation("absolute path")),
            ("out/x", .accessViolation("resolves outside the upload directory")), ("missing/x", .notFound), ("kept", .exists),
            ("sub/", .accessViolation("not a file name")),
        ] {
            #expect(throws: error, "\(name)") { try uploads.create(name, size: nil) }
        }
        #expect(throws: TFTPFileError.tooLarge) { try TFTPUploadDirectory(path: directory.file("in"), maxSize: 10).create("big", size: 11) }

        // Written under a hidden name; the name appears at the commit; a dropped upload leaves nothing.
        var upload: TFTPUpload? = try uploads.create("new", size: 3)
        try upload?.write(ByteBuffer(string: "abc"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("in/new")))
        try upload?.commit()
        upload = nil
        #expect(try String(contentsOfFile: directory.file("in/new"), encoding: .utf8) == "abc")
        var dropped: TFTPUpload? = try uploads.create("dropped", size: nil)
        try dropped?.write(ByteBuffer(string: "partial"))
        dropped = nil
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("in")).sorted() == ["kept", "new", "out"])

        // The name was taken while the upload ran: the commit refuses rather than replace it.
        let racing = try uploads.create("raced", size: nil)
        try directory.write("in/raced", "first")
        #expect(throws: TFTPFileError.exists) { try racing.commit() }

        let overwriting = try TFTPUploadDirectory(path: directory.file("in"), overwrite: true).create("kept", size: nil)
        try overwriting.write(ByteBuffer(string: "new"))
        try overwriting.commit()
        #expect(try String(contentsOfFile: directory.file("in/kept"), encoding: .utf8) == "new")
    }

    func withServer(maxSize: Int = 200 << 20, _ body: (TFTPTestServer, TemporaryDirectory) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("tftp-upload-server")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("root"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.file("uploads"), withIntermediateDirectories: true)
        let server = try await TFTPTestServer.start(
            root: directory.file("root"), uploads: try TFTPUploadDirectory(path: directory.file("uploads"), maxSize: maxSize))
        try await body(server, directory)
        await server.stop()
    }

    func makeFile(_ directory: TemporaryDirectory, _ name: String, size: Int) throws -> String {
        _ = try runSync("/bin/sh", ["-c", "head -c \(size) /dev/urandom > '\(directory.file(name))'"])
        return try sha256(directory.file(name))
    }

    @Test(.enabled(if: TFTPClients.available("tftp", "curl", "atftp")))
    func realClientsUpload() async throws {
        let (tftp, curl, atftp) = (try TFTPClients.require("tftp"), try TFTPClients.require("curl"), try TFTPClients.require("atftp"))
        try await withServer { server, directory in
            let sum = try makeFile(directory, "source", size: 3_000_003)
            let uploads: [(String, String, [String])] = [
                ("hpa", tftp, ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "put", directory.file("source"), "hpa"]),
                ("curl", curl, ["-sS", "--tftp-blksize", "1468", "-T", directory.file("source"), "tftp://127.0.0.1:\(server.port)/curl"]),
                ("atftp", atftp, ["-p", "-l", directory.file("source"), "-r", "atftp", "--option", "blksize 1468", "--option", "windowsize 16",
                                  "--option", "tsize enable", "127.0.0.1", "\(server.port)"]),
            ]
            for (name, tool, arguments) in uploads {
                let result = try await ChildProcess.run(tool, arguments, timeout: .seconds(120))
                #expect(result.status == 0, "\(tool): \(result.output)")
                #expect(try sha256(directory.file("uploads/\(name)")) == sum, "\(name)")
            }
            let events = server.events.events.filter { $0.direction == .write && $0.outcome == .completed }
            #expect(events.map(\.file).sorted() == ["atftp", "curl", "hpa"])
            #expect(events.first { $0.file == "curl" }?.blockSize == 1468)
            #expect(events.allSatisfy { $0.size == 3_000_003 })

            // netascii: CR LF on the wire, LF on disk.
            try "one\ntwo\r\n".write(toFile: directory.file("text"), atomically: true, encoding: .utf8)
            let ascii = try await ChildProcess.run(tftp, ["-m", "ascii", "127.0.0.1", "\(server.port)", "-c", "put", directory.file("text"), "text"])
            #expect(ascii.status == 0, "\(ascii.output)")
            #expect(try String(contentsOfFile: directory.file("uploads/text"), encoding: .utf8) == "one\ntwo\r\n")

            // An existing name is refused (ERROR 6) and keeps its bytes.
            let again = try await ChildProcess.run(curl, ["-sS", "-T", directory.file("text"), "tftp://127.0.0.1:\(server.port)/hpa"])
            #expect(again.status != 0)
            #expect(try sha256(directory.file("uploads/hpa")) == sum)
            let traversal = try await ChildProcess.run(tftp, ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "put", directory.file("text"), "../root/x"])
            #expect(traversal.output.localizedCaseInsensitiveContains("access violation"), "\(traversal.output)")
            #expect(!FileManager.default.fileExists(atPath: directory.file("root/x")))
        }
    }

    @Test(.enabled(if: TFTPClients.available("curl")))
    func tooLargeIsRefusedAndLeavesNothing() async throws {
        let curl = try TFTPClients.require("curl")
        try await withServer(maxSize: 100_000) { server, directory in
            _ = try makeFile(directory, "big", size: 100_001)
            // curl announces tsize: refused before any DATA.
            let announced = try await ChildProcess.run(curl, ["-sS", "-T", directory.file("big"), "tftp://127.0.0.1:\(server.port)/big"])
            #expect(announced.status != 0)
            // tftp-hpa does not: stopped with ERROR 3 when the limit is crossed.
            if let tftp = TFTPClients.path("tftp") {
                let streamed = try await ChildProcess.run(tftp, ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "put", directory.file("big"), "big"])
                #expect(streamed.output.localizedCaseInsensitiveContains("disk full") || streamed.output.contains("too large"), "\(streamed.output)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("uploads")) == [])
        }
    }

    @Test func withoutAnUploadDirectoryWritesAreRefused() async throws {
        let directory = try TemporaryDirectory("tftp-no-uploads")
        defer { directory.remove() }
        let server = try await TFTPTestServer.start(root: directory.path)
        let socket = try UDPTestSocket()
        socket.send(TFTPPacket.writeRequest(TFTPRequest(filename: "x")).byteArray, to: UInt16(server.port))
        let answer = try #require(await socket.receive(timeout: .seconds(5)))
        #expect(try TFTPPacket(answer.bytes) == .error(code: .accessViolation, message: "Writes are not accepted"))
        await server.stop()
    }
}
