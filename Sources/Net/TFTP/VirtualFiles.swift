public import NIOCore
import Synchronization

/// Files that exist only for one client and are rendered when asked for, such as
/// `pxelinux.cfg/01-<mac>`, `grub.cfg-<mac>` or an iPXE script, so a machine's boot target changes
/// without a file being written. The OSIS-backed provider (boot configs from the store) comes with the
/// workflow engine; `TemplateVirtualFiles` and `MemoryVirtualFiles` are the two here.
public protocol VirtualFileProvider: Sendable {
    /// The bytes of `path` for `client`, or nil when this provider has no such file.
    func render(_ path: String, for client: SocketAddress) async -> ByteBuffer?
}

/// Asks `provider` first and falls back to `files` (normally the TFTP root).
public struct VirtualFileSource: TFTPFileSource {
    public let provider: any VirtualFileProvider
    public let files: any TFTPFileSource

    public init(provider: any VirtualFileProvider, fallback files: any TFTPFileSource) {
        self.provider = provider
        self.files = files
    }

    public func open(_ path: String, for client: SocketAddress) async throws(TFTPFileError) -> TFTPFileContent {
        let path = try TFTPPath.validate(path)
        if let bytes = await provider.render(path, for: client) { return .memory(bytes) }
        return try await files.open(path, for: client)
    }
}

/// The in-memory twin: fixed files, optionally only for one client address.
public final class MemoryVirtualFiles: VirtualFileProvider {
    private let files = Mutex<[Key: ByteBuffer]>([:])

    struct Key: Hashable {
        var path: String
        var client: String?
    }

    public init() {}

    /// Serves `text` as `path`, to `client` (an IP address) only, or to everyone when nil.
    public func set(_ path: String, _ text: String, client: String? = nil) {
        files.withLock { $0[Key(path: path, client: client)] = ByteBuffer(string: text) }
    }

    public func render(_ path: String, for client: SocketAddress) async -> ByteBuffer? {
        files.withLock { $0[Key(path: path, client: client.ipAddress)] ?? $0[Key(path: path, client: nil)] }
    }
}
