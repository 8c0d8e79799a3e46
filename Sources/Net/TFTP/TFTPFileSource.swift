public import NIOCore

/// Where the responder gets the bytes of a requested file: the TFTP root, a virtual file rendered for
/// the client, or a test twin. Names reaching a source have passed `TFTPPath.validate`.
public protocol TFTPFileSource: Sendable {
    /// The file `path` as `client` should see it.
    func open(_ path: String, for client: SocketAddress) async throws(TFTPFileError) -> TFTPFileContent
}

/// The bytes of one file being served.
public enum TFTPFileContent: Sendable {
    /// Whole in memory: a cached file or a rendered virtual file.
    case memory(ByteBuffer)
    /// Too large for the cache: read block by block from an open file.
    case file(TFTPOpenFile)

    public var size: Int {
        switch self {
        case .memory(let bytes): return bytes.readableBytes
        case .file(let file): return file.size
        }
    }
}

/// Why a file cannot be served; each maps to the ERROR code the client gets (RFC 1350 §5).
public enum TFTPFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound
    /// The name breaks a path rule or points outside the root: logged and counted as a refused path.
    case accessViolation(String)
    case readFailed(String)
    /// An upload's name is taken and overwriting is off.
    case exists
    /// An upload is over the size limit, or the disk is full.
    case tooLarge
    case writeFailed(String)

    public var code: TFTPErrorCode {
        switch self {
        case .notFound: return .fileNotFound
        case .accessViolation: return .accessViolation
        case .readFailed, .writeFailed: return .notDefined
        case .exists: return .fileExists
        case .tooLarge: return .diskFull
        }
    }

    /// The ERROR message sent: short, and it never echoes resolved paths.
    public var message: String {
        switch self {
        case .notFound: return "File not found"
        case .accessViolation: return "Access violation"
        case .readFailed: return "Read error"
        case .exists: return "File already exists"
        case .tooLarge: return "File too large"
        case .writeFailed: return "Write error"
        }
    }

    public var description: String {
        switch self {
        case .notFound: return "not found"
        case .accessViolation(let why): return "refused: \(why)"
        case .readFailed(let why): return "read failed: \(why)"
        case .exists: return "file exists"
        case .tooLarge: return "too large"
        case .writeFailed(let why): return "write failed: \(why)"
        }
    }
}
