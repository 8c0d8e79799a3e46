public import NIOCore

/// What the listening port does with one datagram: the request-level half of the responder, pure.
///
/// It parses, rate-limits and checks the request; opening the file and starting the transfer on its own
/// port is the adapter's part.
public struct TFTPResponder: Sendable {
    public enum Decision: Sendable, Hashable {
        /// Say nothing: malformed, over the rate limit, or not a request (RFC 1350 §4 TIDs).
        case drop(DropReason)
        /// Answer with ERROR from the listening port and start nothing.
        case refuse(TFTPErrorCode, message: String, reason: TFTPRefusal)
        /// Serve `request.filename` in `mode`.
        case read(TFTPRequest, mode: TFTPMode)
        /// Receive `request.filename` in `mode` into the upload directory.
        case write(TFTPRequest, mode: TFTPMode)
    }

    public enum DropReason: Sendable, Hashable {
        case malformed(TFTPParseError)
        case rateLimited
        /// DATA, ACK, ERROR or OACK sent to the listening port.
        case notARequest(TFTPOpcode)
    }

    public var limiter: TFTPRateLimiter
    /// WRQs are refused (ERROR 2) unless an upload directory is configured.
    public var acceptsWrites: Bool

    public init(limiter: TFTPRateLimiter = TFTPRateLimiter(), acceptsWrites: Bool = false) {
        self.limiter = limiter
        self.acceptsWrites = acceptsWrites
    }

    public mutating func handle(_ datagram: ByteBuffer, from source: String, now: NIODeadline) -> Decision {
        var buffer = datagram
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket(parsing: &buffer)
        } catch {
            return .drop(.malformed(error))
        }
        let request: TFTPRequest
        switch packet {
        case .readRequest(let read): request = read
        case .writeRequest(let write) where acceptsWrites: request = write
        case .writeRequest:
            guard limiter.allow(source, now: now) else { return .drop(.rateLimited) }
            return .refuse(.accessViolation, message: "Writes are not accepted", reason: .write)
        default:
            return .drop(.notARequest(packet.opcode))
        }
        guard limiter.allow(source, now: now) else { return .drop(.rateLimited) }
        guard let mode = request.transferMode else {
            return .refuse(.illegalOperation, message: "Unsupported mode '\(request.mode)'", reason: .mode)
        }
        do {
            _ = try TFTPPath.validate(request.filename)
        } catch {
            return .refuse(error.code, message: error.message, reason: .path(error.description))
        }
        return packet.opcode == .writeRequest ? .write(request, mode: mode) : .read(request, mode: mode)
    }
}

/// Why a request got an ERROR instead of a transfer; a label on the refused-requests counter.
public enum TFTPRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The name broke a path rule or resolved outside the root.
    case path(String)
    case notFound
    /// WRQ: no upload directory is configured.
    case write
    /// WRQ: the name exists and overwriting is off.
    case exists
    /// WRQ: `tsize` over the upload limit.
    case tooLarge
    /// `mail` or an unknown mode.
    case mode
    /// Too many transfers running.
    case busy
    /// The file could not be read, or is too large for netascii.
    case read(String)

    /// The metrics label.
    public var label: String {
        switch self {
        case .path: return "path"
        case .notFound: return "not_found"
        case .write: return "write"
        case .exists: return "exists"
        case .tooLarge: return "too_large"
        case .mode: return "mode"
        case .busy: return "busy"
        case .read: return "read"
        }
    }

    public var description: String {
        switch self {
        case .path(let why): return why
        case .read(let why): return why
        default: return label
        }
    }
}
