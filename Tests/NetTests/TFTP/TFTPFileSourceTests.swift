import Foundation
import NIOCore
import Net
import Testing
import TestSupport

/// Path confinement, the cache and virtual files.
@Suite struct TFTPFileSourceTests {
    static let refused = [
        "", "/etc/passwd", "../etc/passwd", "a/../../etc/passwd", "a/..", "..", "boot\\pxelinux.0",
        "..\\..\\windows", "a\u{1}b", "x/../../../../../../../etc/shadow",
    ]

    @Test(arguments: refused)
    func refusesUnsafeNames(name: String) {
        #expect(throws: (any Error).self) { try TFTPPath.validate(name) }
    }

    @Test(arguments: ["pxelinux.0", "pxelinux.cfg/01-52-54-00-77-00-01", "a/./b", "a..b", "..a", "dir/file..x"])
    func acceptsOrdinaryNames(name: String) throws {
        #expect(try TFTPPath.validate(name) == name)
    }

    @Test func rootDirectoryIsConfined() throws {
        let outside = try TemporaryDirectory("tftp-outside")
        let directory = try TemporaryDirectory("tftp-root")
        defer { outside.remove(); directory.remove() }
        try outside.write("secret", "top secret")
        try directory.write("boot.txt", "hello")
        try FileManager.default.createDirectory(atPath: directory.file("sub"), withIntermediateDirectories: true)
        try directory.write("sub/inner", "inner")
        try FileManager.default.createSymbolicLink(atPath: directory.file("escape"), withDestinationPath: outside.file("secret"))
        try FileManager.default.createSymbolicLink(atPath: directory.file("escape-dir"), withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: directory.file("inside"), withDestinationPath: directory.file("boot.txt"))
        try FileManager.default.createSymbolicLink(atPath: directory.file("dangling"), withDestinationPath: outside.file("nothing"))

        let root = try TFTPRootDirectory(path: directory.path)
        #expect(try text(root.openSync("boot.txt")) == "hello")
        #expect(try text(root.openSync("sub/inner")) == "inner")
        #expect(try text(root.openSync("inside")) == "hello", "a symlink within the root is fine")
        #expect(throws: TFTPFileError.accessViolation("resolves outside the root")) { try root.openSync("escape") }
        #expect(throws: TFTPFileError.accessViolation("resolves outside the root")) { try root.openSync("escape-dir/secret") }
        #expect(throws: TFTPFileError.notFound) { try root.openSync("dangling") }
        #expect(throws: TFTPFileError.notFound) { try root.openSync("missing") }
        #expect(throws: TFTPFileError.notFound) { try root.openSync("sub") }
        #expect(throws: TFTPFileError.accessViolation("'..' in path")) { try root.openSync("sub/../../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret") }
        #expect(throws: TFTPFileError.accessViolation("absolute path")) { try root.openSync(outside.file("secret")) }
    }

    @Test func cacheServesHotFilesFromMemoryAndNoticesChanges() throws {
        let directory = try TemporaryDirectory("tftp-cache")
        defer { directory.remove() }
        try directory.write("small", "one")
        try directory.write("large", String(repeating: "x", count: 2000))
        let cache = TFTPFileCache(capacity: 1000, maxFileSize: 100)
        let root = try TFTPRootDirectory(path: directory.path, cache: cache)
        #expect(try text(root.openSync("small")) == "one")
        #expect(cache.bytesHeld == 3)
        // Too large for the cache: streamed from the file.
        guard case .file(let file) = try root.openSync("large") else {
            Issue.record("large file was cached")
            return
        }
        var buffer = ByteBuffer()
        try file.read(1990..<2000, into: &buffer)
        #expect(buffer.readableBytes == 10)
        #expect(cache.bytesHeld == 3)
        // Replaced (new inode and size): read again.
        try directory.write("small", "three")
        #expect(try text(root.openSync("small")) == "three")
        #expect(cache.bytesHeld == 5)
    }

    @Test func cacheEvictsLeastRecentlyUsed() {
        let cache = TFTPFileCache(capacity: 10, maxFileSize: 10)
        let identity = { (n: Int) in TFTPFileCache.Identity(device: 1, inode: UInt64(n), size: 4, modified: 0) }
        cache.store("a", identity: identity(1), bytes: ByteBuffer(string: "aaaa"))
        cache.store("b", identity: identity(2), bytes: ByteBuffer(string: "bbbb"))
        _ = cache.lookup("a", identity: identity(1))
        cache.store("c", identity: identity(3), bytes: ByteBuffer(string: "cccc"))
        #expect(cache.lookup("b", identity: identity(2)) == nil)
        #expect(cache.lookup("a", identity: identity(1)) != nil)
        #expect(cache.bytesHeld == 8)
    }

    @Test func virtualFilesComeFirstAndPerClient() async throws {
        let directory = try TemporaryDirectory("tftp-virtual")
        defer { directory.remove() }
        try directory.write("pxelinux.cfg-default", "disk")
        let memory = MemoryVirtualFiles()
        memory.set("boot.ipxe", "#!ipxe\nchain http://x/a", client: "10.0.0.5")
        let source = VirtualFileSource(provider: memory, fallback: try TFTPRootDirectory(path: directory.path))
        let five = try SocketAddress(ipAddress: "10.0.0.5", port: 2000)
        let six = try SocketAddress(ipAddress: "10.0.0.6", port: 2000)
        #expect(try await text(source.open("boot.ipxe", for: five)) == "#!ipxe\nchain http://x/a")
        await #expect(throws: TFTPFileError.notFound) { try await source.open("boot.ipxe", for: six) }
        #expect(try await text(source.open("pxelinux.cfg-default", for: six)) == "disk")
        await #expect(throws: TFTPFileError.accessViolation("'..' in path")) { try await source.open("../x", for: six) }
    }

    @Test func templatesRenderPerMachine() async throws {
        let templates = TemplateVirtualFiles([
            .init("pxelinux.cfg/01-{mac}", "DEFAULT local # {{mac}} {{mac-hyphen}} {{client}}"),
            .init("boot.ipxe", "#!ipxe\necho {{path}}"),
        ])
        let client = try SocketAddress(ipAddress: "10.77.0.130", port: 1024)
        let rendered = await templates.render("pxelinux.cfg/01-52-54-00-77-00-01", for: client)
        #expect(rendered.map { String(buffer: $0) } == "DEFAULT local # 52:54:00:77:00:01 52-54-00-77-00-01 10.77.0.130")
        #expect(await templates.render("boot.ipxe", for: client).map { String(buffer: $0) } == "#!ipxe\necho boot.ipxe")
        #expect(await templates.render("pxelinux.cfg/01-52-54-00-77-00", for: client) == nil)
        #expect(await templates.render("pxelinux.cfg/0A4D0082", for: client) == nil)
    }

    @Test func netasciiConversion() {
        let encoded = TFTPNetascii.encode(ByteBuffer(bytes: Array("a\nb\r\nc\rd".utf8)))
        #expect(Array(encoded.readableBytesView) == Array("a\r\nb\r".utf8) + [0] + Array("\r\nc\r".utf8) + [0] + Array("d".utf8))
    }

    @Test func rateLimiterRefillsAndStaysBounded() {
        let t0 = NIODeadline.now()
        var limiter = TFTPRateLimiter(burst: 3, perSecond: 2, maxSources: 2)
        #expect((0..<4).map { _ in limiter.allow("a", now: t0) } == [true, true, true, false])
        let refilled = limiter.allow("a", now: t0 + .milliseconds(500))
        let spent = limiter.allow("a", now: t0 + .milliseconds(500))
        #expect(refilled && !spent)
        _ = limiter.allow("b", now: t0)
        _ = limiter.allow("c", now: t0)
        #expect(limiter.trackedSources <= 2)
    }

    func text(_ content: TFTPFileContent) throws -> String {
        switch content {
        case .memory(let bytes): return String(buffer: bytes)
        case .file(let file):
            var buffer = ByteBuffer()
            try file.read(0..<file.size, into: &buffer)
            return String(buffer: buffer)
        }
    }
}
