public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files under the TFTP root, confined to it.
///
/// A name is checked by `TFTPPath`, then resolved with `realpath(3)`: a result outside the root (a
/// symlink pointing out) is refused. Only regular files are served, opened `O_NOFOLLOW` at the resolved
/// path. Nothing outside the root is ever opened or read. Small files go through the cache.
public struct TFTPRootDirectory: TFTPFileSource {
    /// The root, resolved: every served path starts with it.
    public let root: String
    public let cache: TFTPFileCache

    /// Fails with `.notFound` when `path` does not exist.
    public init(path: String, cache: TFTPFileCache = TFTPFileCache()) throws(TFTPFileError) {
        guard let resolved = Self.realPath(path) else { throw .notFound }
        self.root = resolved
        self.cache = cache
    }

    public func open(_ path: String, for client: SocketAddress) async throws(TFTPFileError) -> TFTPFileContent {
        try openSync(path)
    }

    /// The synchronous work of `open`: a few syscalls, and one read of the file on a cache miss.
    public func openSync(_ name: String) throws(TFTPFileError) -> TFTPFileContent {
        let name = try TFTPPath.validate(name)
        guard let resolved = Self.realPath(root + "/" + name) else { throw .notFound }
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw .accessViolation("resolves outside the root")
        }
        let descriptor = Glibc.open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw errno == ENOENT ? .notFound : .accessViolation("cannot open") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .notFound
        }
        let file = TFTPOpenFile(descriptor: descriptor, size: Int(info.st_size))
        let identity = TFTPFileCache.Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
        if let bytes = cache.lookup(resolved, identity: identity) { return .memory(bytes) }
        guard file.size <= cache.maxFileSize else { return .file(file) }
        let bytes = try file.readAll()
        cache.store(resolved, identity: identity, bytes: bytes)
        return .memory(bytes)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
