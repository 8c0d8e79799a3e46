import NIOCore

/// The body of an RRQ or WRQ: file name, transfer mode and options (RFC 1350 §5, RFC 2347).
public struct TFTPRequest: Sendable, Hashable {
    /// The file name exactly as the client sent it; it is checked by `TFTPPath` before any use.
    public var filename: String
    /// The mode as sent (`octet`, `netascii`, any case); see `transferMode`.
    public var mode: String
    public var options: TFTPOptionList

    public init(filename: String, mode: String = "octet", options: TFTPOptionList = TFTPOptionList()) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }

    /// The mode as a value, or nil for `mail` (obsolete, RFC 1350 §1) and anything unknown.
    public var transferMode: TFTPMode? { TFTPMode(rawValue: mode.lowercased()) }

    init(parsing buffer: inout ByteBuffer) throws(TFTPParseError) {
        filename = try buffer.readTFTPString(field: "filename")
        mode = try buffer.readTFTPString(field: "mode")
        options = try TFTPOptionList(parsing: &buffer)
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeTFTPString(filename)
        buffer.writeTFTPString(mode)
        options.write(to: &buffer)
    }
}

/// The transfer modes served (RFC 1350 §1).
public enum TFTPMode: String, Sendable, Hashable {
    /// Bytes as they are on disk.
    case octet
    /// NVT ASCII: CR LF line ends and CR NUL for a bare CR (RFC 764).
    case netascii
}
