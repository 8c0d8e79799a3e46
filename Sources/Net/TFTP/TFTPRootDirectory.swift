import CLinuxShims
public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files under the TFTP root, confined to it.
///
/// A name is checked by `TFTPPath`, then opened with `openat2(2)` and `RESOLVE_BENEATH` relative to the
/// root's descriptor: the kernel refuses any resolution, symlinks included, that leaves the root, and
/// there is no window between checking a path and opening it. Where openat2 is missing (Linux before 5.6,
/// or a seccomp filter), and for absolute symlinks (which RESOLVE_BENEATH refuses even when they point
/// inside the root), the name is resolved with `realpath(3)` instead, refused if the result leaves the
/// root, and opened `O_NOFOLLOW`. Only regular files are served; small ones go through the cache.
///
/// The work is blocking (syscalls, and a whole read on a cache miss), so `open` runs it on `blockingIO`,
/// never on an event loop or the listener's task.
public struct TFTPRootDirectory: TFTPFileSource {
    /// The root, resolved: every served path starts with it.
    public let root: String
    public let cache: TFTPFileCache
    let directory: DirectoryHandle
    let blockingIO: any TFTPBlockingIO

    /// Fails with `.notFound` when `path` does not exist.
    public init(
        path: String, cache: TFTPFileCache = TFTPFileCache(), blockingIO: any TFTPBlockingIO = TFTPService.blockingIO
    ) throws(TFTPFileError) {
        guard let resolved = Self.realPath(path) else { throw .notFound }
        let descriptor = Glibc.open(resolved, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .notFound }
        self.root = resolved
        self.cache = cache
        self.directory = DirectoryHandle(descriptor: descriptor)
        self.blockingIO = blockingIO
    }

    public func open(_ path: String, for client: SocketAddress) async throws(TFTPFileError) -> TFTPFileContent {
        let result = await blockingIO.run { [self] () -> Result<TFTPFileContent, TFTPFileError> in
            do throws(TFTPFileError) { return .success(try openSync(path)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let content): return content
        case .failure(let error): throw error
        }
    }

    /// The synchronous work of `open`: a few syscalls, and one read of the file on a cache miss.
    public func openSync(_ name: String) throws(TFTPFileError) -> TFTPFileContent {
        let name = try TFTPPath.validate(name)
        var descriptor = try openBeneath(name)
        if descriptor == nil { descriptor = try openResolved(name) }
        guard let descriptor else { throw .notFound }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .notFound
        }
        let file = TFTPOpenFile(descriptor: descriptor, size: Int(info.st_size))
        let identity = TFTPFileCache.Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
            modified: nanoseconds(info.st_mtim))
        // Keyed by name, so a replaced file replaces its entry; the identity check catches the replacement.
        let key = name
        if let bytes = cache.lookup(key, identity: identity) { return .memory(bytes) }
        guard file.size <= cache.maxFileSize else { return .file(file) }
        let bytes = try file.readAll()
        cache.store(key, identity: identity, bytes: bytes)
        return .memory(bytes)
    }

    /// openat2 with RESOLVE_BENEATH; nil when the kernel cannot, or the name needs the realpath check.
    func openBeneath(_ name: String) throws(TFTPFileError) -> Int32? {
        guard Self.beneathSupported else { return nil }
        let descriptor = provision_open_beneath(directory.descriptor, name, UInt64(O_RDONLY | O_CLOEXEC))
        if descriptor >= 0 { return descriptor }
        switch errno {
        case ENOENT, ENOTDIR: throw .notFound
        // EXDEV: the resolution left the root, or met an absolute symlink: realpath decides which.
        // ENOSYS, EPERM (seccomp), EINVAL: no usable openat2 here.
        default: return nil
        }
    }

    /// The fallback: resolve, compare with the root, open the resolved path without following a link.
    func openResolved(_ name: String) throws(TFTPFileError) -> Int32 {
        guard let resolved = Self.realPath(root + "/" + name) else { throw .notFound }
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw .accessViolation("resolves outside the root")
        }
        let descriptor = Glibc.open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw errno == ENOENT ? .notFound : .accessViolation("cannot open") }
        return descriptor
    }

    /// Whether openat2 works here, probed once: "." beneath "/" always resolves when it does.
    static let beneathSupported: Bool = {
        let descriptor = provision_open_beneath(AT_FDCWD, ".", UInt64(O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        guard descriptor >= 0 else { return false }
        close(descriptor)
        return true
    }()

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// An open directory descriptor, closed with its last user.
final class DirectoryHandle: Sendable {
    let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }
}

/// Runs blocking file work off the caller's thread: the service's is `NIOThreadPool.singleton`; tests
/// may run it inline.
public protocol TFTPBlockingIO: Sendable {
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T
}

/// Runs the work where it is called: for tests and tools, never for the service.
public struct InlineBlockingIO: TFTPBlockingIO {
    public init() {}

    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T { work() }
}

/// A `timespec` in nanoseconds, read at the fixed 64-bit Linux offsets (seconds, then nanoseconds) and not
/// by field: which module Swift credits with `timespec`'s fields depends on the build (the standard
/// library's shims declare one too), and the member-import rule then refuses them.
private func nanoseconds(_ time: timespec) -> Int64 {
    withUnsafeBytes(of: time) { $0.load(fromByteOffset: 0, as: Int64.self) * 1_000_000_000 + $0.load(fromByteOffset: 8, as: Int64.self) }
}
