import Foundation
import Testing
import TestSupport

@testable import OSIS

/// The embedded store's op log: its record format, where reading it stops, and that it brings back
/// acknowledged commits the SQLite files lost (what a power loss does to `synchronous = NORMAL`).
@Suite(.timeLimit(.minutes(2))) struct SQLiteOpLogTests {
    static let sample = OpLogRecord(
        batch: 7, revision: 42,
        changes: [
            .init(seq: 1, deleted: false, keyValue: KeyValue(key: "/a", value: Data([0xAB]), createRevision: 40, modRevision: 42, version: 3, lease: 9)),
            .init(seq: 2, deleted: true, keyValue: KeyValue(key: "/b", value: Data(), createRevision: 0, modRevision: 42, version: 0)),
        ],
        leases: [.set(id: 9, ttlMilliseconds: 1000, expiresMilliseconds: 5000), .removed(id: 8)])

    /// The payload spelled out field by field, little-endian, as the format's documentation says.
    static let samplePayload: [UInt8] =
        le(7) + le(42) + le32(2)
        + [0b10] + le(1) + le(40) + le(42) + le(3) + le(9) + le32(2) + Array("/a".utf8) + le32(1) + [0xAB]
        + [0b01] + le(2) + le(0) + le(42) + le(0) + le32(2) + Array("/b".utf8) + le32(0)
        + le32(2) + [0] + le(9) + le(1000) + le(5000) + [1] + le(8)

    static func le(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    @Test func aRecordIsFramedAsDocumentedAndDecodesToItself() throws {
        let frame = Self.sample.encoded()
        #expect(Array(frame.dropFirst(8)) == Self.samplePayload)
        #expect(Array(frame.prefix(4)) == Self.le32(UInt32(Self.samplePayload.count)))
        // zlib's CRC-32 of "123456789" is 0xCBF43926: the checksum is the standard one.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Array(frame[4..<8]) == Self.le32(CRC32.checksum(Self.samplePayload)))
        let (decoded, length) = try frame.withUnsafeBytes { try OpLogRecord.decode($0) }
        #expect(decoded == Self.sample && length == frame.count)
    }

    /// The checksum reads 8 bytes at a time, then the rest byte by byte: values from Python's
    /// `zlib.crc32` for inputs that end on and off an 8-byte boundary.
    @Test func checksumMatchesZlibAtEveryAlignment() {
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum((0..<1024).map { UInt8($0 % 256) }) == 0xB70B_4C26)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func damagedFramesAreRecognised() {
        var frame = Self.sample.encoded()
        #expect(throws: OpLogRecord.DecodeError.truncated) { try frame.dropLast().withUnsafeBytes { try OpLogRecord.decode($0) } }
        #expect(throws: OpLogRecord.DecodeError.truncated) { try [UInt8](repeating: 0, count: 64).withUnsafeBytes { try OpLogRecord.decode($0) } }
        frame[20] ^= 1
        #expect(throws: OpLogRecord.DecodeError.checksumMismatch) { try frame.withUnsafeBytes { try OpLogRecord.decode($0) } }
    }

    /// Reading stops at a corrupt record, and after a restart at offset 0 the stale records further on
    /// (older batch numbers) are not taken for new ones.
    @Test func readingStopsAtCorruptionAndAtStaleRecords() throws {
        let directory = try TemporaryDirectory("oplog")
        defer { directory.remove() }
        let log = try SQLiteOpLog(databasePath: directory.file("kv.sqlite"), capacity: 1 << 16)
        var offsets: [Int] = []
        for batch in Int64(1)...5 {
            var record = Self.sample
            record.batch = batch
            offsets.append(try log.append(record.encoded()))
        }
        #expect(try log.records().map(\.batch) == [1, 2, 3, 4, 5])

        // Same-sized records: after each new one, an intact stale record follows, with an older batch number.
        log.restart()
        var fresh = Self.sample
        fresh.batch = 6
        _ = try log.append(fresh.encoded())
        #expect(try log.records().map(\.batch) == [6])
        fresh.batch = 7
        _ = try log.append(fresh.encoded())
        #expect(try log.records().map(\.batch) == [6, 7])

        // A flipped bit in the second record ends the reading before it.
        let fd = open(log.path, O_RDWR)
        defer { close(fd) }
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, off_t(offsets[1] + 12))
        byte ^= 0x40
        _ = pwrite(fd, &byte, 1, off_t(offsets[1] + 12))
        #expect(try log.records().map(\.batch) == [6])

        log.retract(at: 0)
        #expect(try log.records().isEmpty)
    }

    /// One commit larger than the whole log (a batch of big objects) is written past its end and read back.
    @Test func aRecordLargerThanTheLogReadsBackWhole() throws {
        let directory = try TemporaryDirectory("oplog")
        defer { directory.remove() }
        let log = try SQLiteOpLog(databasePath: directory.file("kv.sqlite"), capacity: 1 << 12)
        var big = Self.sample
        big.changes[0].keyValue.value = Data(repeating: 0x5A, count: 3 << 12)
        let frame = big.encoded()
        #expect(!log.hasRoom(for: frame.count))
        log.restart()
        _ = try log.append(frame)
        #expect(try log.records() == [big])
    }

    /// Simulates a power loss: the SQLite files go back to an earlier durable state while the op log,
    /// fsynced before each acknowledgement, keeps every commit since. Reopening brings them all back,
    /// with their revisions, their history for watchers and their leases.
    @Test func commitsTheTablesLostComeBackFromTheLog() async throws {
        let original = try TemporaryDirectory("oplog-before")
        let restored = try TemporaryDirectory("oplog-after")
        defer {
            original.remove()
            restored.remove()
        }
        let store = try SQLiteKV(path: original.file("kv.sqlite"))
        let before = try await store.put("/p/old", Data("old".utf8))
        // Nothing is being written: the database and its WAL agree at a commit boundary.
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: original.file("kv.sqlite" + suffix), toPath: restored.file("kv.sqlite" + suffix))
        }

        var acknowledged: [String: Int64] = [:]
        try await withThrowingTaskGroup(of: (String, Int64).self) { group in
            for i in 0..<40 {
                group.addTask { ("/p/\(i)", try await store.put("/p/\(i)", Data("value \(i)".utf8))) }
            }
            for try await (key, revision) in group { acknowledged[key] = revision }
        }
        let lease = try await store.grantLease(ttl: .seconds(60))
        let leased = try await store.put("/p/leased", Data("l".utf8), lease: lease.id)
        let deleted = try await store.delete("/p/old")
        let last = try await store.currentRevision()
        try FileManager.default.copyItem(atPath: original.file("kv.sqlite-oplog"), toPath: restored.file("kv.sqlite-oplog"))
        await store.close()

        let reopened = try SQLiteKV(path: restored.file("kv.sqlite"))
        #expect(try await reopened.currentRevision() == last)
        for (key, revision) in acknowledged {
            let kv = try await reopened.get(key)
            #expect(kv?.modRevision == revision && kv?.value == Data("value \(key.dropFirst(3))".utf8))
        }
        #expect(try await reopened.get("/p/old") == nil)
        #expect(try await reopened.get("/p/leased")?.lease == lease.id)

        // Watchers from before the loss see every change again, in order, each once.
        var iterator = reopened.watch(prefix: "/p/", after: before).makeAsyncIterator()
        var revisions: [Int64] = []
        while (revisions.last ?? 0) < last, let events = try await iterator.next() { revisions += events.map(\.revision) }
        #expect(revisions == Array(before + 1...last))
        #expect(Set(acknowledged.values).union([leased, deleted]) == Set(before + 1...last))

        // The lease came back too: revoking it takes its key.
        try await reopened.revokeLease(lease.id)
        #expect(try await reopened.get("/p/leased") == nil)
        await reopened.close()
    }
}
