import Foundation
import Synchronization

/// The embedded store's durable record of recent commits: a file beside the database
/// (`<path>-oplog`) to which every commit appends one `OpLogRecord` and which is fsynced before the
/// commit is acknowledged.
///
/// Why not let SQLite's own commit be the durable point: a commit of 30 new keys dirties some 30 B-tree
/// pages, and fsyncing 120 KiB of WAL costs this kind of disk three times what fsyncing the 10 KiB record
/// of the same changes does. So SQLite runs with `synchronous = NORMAL` (its commits are ordered and
/// consistent but not yet durable), and the op log carries durability until SQLite's files are synced.
///
/// - The file is written in place, and grown a MiB of zeros at a time up to `capacity`: growing a file
///   on every append would make each fdatasync a journal commit too.
/// - Records carry consecutive batch numbers. A reader stops at the first record that is torn, fails its
///   checksum or does not carry the next number, so stale records left from before a `restart` are
///   never taken for new ones.
/// - When the next record does not fit, the owner syncs SQLite's files and restarts the log at offset 0:
///   everything the log held is then in the tables durably.
/// - Appends and restarts happen under SQLite's write lock (inside `BEGIN IMMEDIATE`), so that another
///   process writing the same database appends to the same log in commit order.
final class SQLiteOpLog: Sendable {
    let path: String
    let capacity: Int
    private let fd: Int32
    private struct Position {
        /// Where the next record goes.
        var tail = 0
        /// The file's size: zeros past the last record, up to where it last grew.
        var size = 0
    }
    private let position = Mutex(Position())

    /// How much the file grows at a time, with zeros: a write inside the file changes no metadata, so
    /// only one fdatasync per step pays for the new size, not every one.
    static let growthStep = 1 << 20

    /// Opens (creating if needed) the log beside `databasePath`.
    init(databasePath: String, capacity: Int = 16 << 20) throws(KVError) {
        path = databasePath + "-oplog"
        self.capacity = capacity
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw KVError.unavailable("\(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Self.failure(path, "fstat") }
        position.withLock { $0.size = Int(status.st_size) }
    }

    deinit { close(fd) }

    /// The records from the start of the file, up to the first torn, bad or out-of-sequence one; leaves
    /// the tail after the last of them.
    func records() throws(KVError) -> [OpLogRecord] {
        // The whole file, not just `capacity`: a single record larger than the log is written past its end.
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Self.failure(path, "fstat") }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard count >= 0 else { throw Self.failure(path, "read") }
        var records: [OpLogRecord] = []
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            let buffer = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            while let (record, length) = try? OpLogRecord.decode(UnsafeRawBufferPointer(rebasing: buffer[offset...])) {
                if let last = records.last, record.batch != last.batch + 1 { break }
                records.append(record)
                offset += length
            }
        }
        position.withLock { $0 = Position(tail: offset, size: size) }
        return records
    }

    /// Whether `bytes` more fit after the tail; when not, the owner makes SQLite durable and calls
    /// `restart`. (A record is appended even where it does not fit: the file grows past `capacity`.)
    func hasRoom(for bytes: Int) -> Bool { position.withLock { $0.tail } + bytes <= capacity }

    /// Writes `frame` at the tail (not yet durable: `sync` is). Returns where it went, for `retract`.
    func append(_ frame: [UInt8]) throws(KVError) -> Int {
        let (offset, size) = position.withLock { ($0.tail, $0.size) }
        let end = offset + frame.count
        var grownTo = size
        if end > size {
            // Real zeros, not fallocate: writing into unwritten extents is a metadata change too.
            grownTo = (end + Self.growthStep - 1) / Self.growthStep * Self.growthStep
            let zeros = [UInt8](repeating: 0, count: grownTo - end)
            guard pwrite(fd, zeros, zeros.count, off_t(end)) == zeros.count else { throw Self.failure(path, "grow") }
        }
        guard pwrite(fd, frame, frame.count, off_t(offset)) == frame.count else { throw Self.failure(path, "write") }
        position.withLock { $0 = Position(tail: end, size: grownTo) }
        return offset
    }

    /// Takes back the record appended at `offset` when its SQLite commit failed: its frame header is
    /// zeroed so no replay finds it, and the tail moves back.
    func retract(at offset: Int) {
        let zeros = [UInt8](repeating: 0, count: OpLogRecord.frameHeaderSize)
        _ = pwrite(fd, zeros, zeros.count, off_t(offset))
        position.withLock { $0.tail = offset }
    }

    /// Makes every record appended so far durable.
    func sync() throws(KVError) {
        guard fdatasync(fd) == 0 else { throw Self.failure(path, "fdatasync") }
    }

    /// Starts over at offset 0. Only once SQLite's files are synced: the records are stale from then on.
    func restart() {
        position.withLock { $0.tail = 0 }
    }

    private static func failure(_ path: String, _ operation: String) -> KVError {
        KVError.unavailable("\(path): \(operation): \(String(cString: strerror(errno)))")
    }
}

extension SQLiteOpLog {
    /// fsyncs the database file and its WAL, so that every commit SQLite made so far is durable without
    /// the log. Called with the write lock held, before `restart`.
    static func syncDatabase(at databasePath: String) throws(KVError) {
        for file in [databasePath, databasePath + "-wal"] {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { continue }
                throw failure(file, "open")
            }
            defer { close(fd) }
            guard fdatasync(fd) == 0 else { throw failure(file, "fdatasync") }
        }
    }
}
