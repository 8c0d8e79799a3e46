public import NIOCore
import Synchronization

/// Whole files kept in memory so that a boot loader fetched by 200 machines at once is read once.
///
/// Entries are keyed by resolved path and checked against the file's identity (device, inode, size,
/// modification time) on every open, so a replaced file is read again. Memory is bounded: files above
/// `maxFileSize` are never cached, and the least recently used entries go when `capacity` is reached.
public final class TFTPFileCache: Sendable {
    /// What identifies one version of a file.
    public struct Identity: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var modified: Int64

        public init(device: UInt64, inode: UInt64, size: Int, modified: Int64) {
            self.device = device
            self.inode = inode
            self.size = size
            self.modified = modified
        }
    }

    struct Entry {
        var identity: Identity
        var bytes: ByteBuffer
        var lastUse: UInt64
    }

    struct State {
        var entries: [String: Entry] = [:]
        var total = 0
        var clock: UInt64 = 0
    }

    public let capacity: Int
    public let maxFileSize: Int
    private let state = Mutex(State())

    public init(capacity: Int = 256 << 20, maxFileSize: Int = 32 << 20) {
        self.capacity = capacity
        self.maxFileSize = min(maxFileSize, capacity)
    }

    /// The cached bytes of `path` if they are still those of `identity`.
    public func lookup(_ path: String, identity: Identity) -> ByteBuffer? {
        state.withLock { state in
            guard var entry = state.entries[path], entry.identity == identity else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[path] = entry
            return entry.bytes
        }
    }

    /// Keeps `bytes` for `path`, evicting the least recently used entries to stay within `capacity`.
    public func store(_ path: String, identity: Identity, bytes: ByteBuffer) {
        guard bytes.readableBytes <= maxFileSize else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: path) { state.total -= old.bytes.readableBytes }
            while state.total + bytes.readableBytes > capacity,
                let victim = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.entries.removeValue(forKey: victim.key)
                state.total -= victim.value.bytes.readableBytes
            }
            state.clock += 1
            state.entries[path] = Entry(identity: identity, bytes: bytes, lastUse: state.clock)
            state.total += bytes.readableBytes
        }
    }

    /// Bytes held, for tests and metrics.
    public var bytesHeld: Int { state.withLock { $0.total } }
}
