/// An ERROR packet's code (RFC 1350 §5 appendix, RFC 2347 §2 for 8). Unknown codes are kept as they are.
public struct TFTPErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 0: not defined, see the message.
    public static let notDefined = TFTPErrorCode(rawValue: 0)
    /// 1: file not found.
    public static let fileNotFound = TFTPErrorCode(rawValue: 1)
    /// 2: access violation.
    public static let accessViolation = TFTPErrorCode(rawValue: 2)
    /// 3: disk full or allocation exceeded.
    public static let diskFull = TFTPErrorCode(rawValue: 3)
    /// 4: illegal TFTP operation.
    public static let illegalOperation = TFTPErrorCode(rawValue: 4)
    /// 5: unknown transfer ID (a packet from the wrong port, RFC 1350 §4).
    public static let unknownTransferID = TFTPErrorCode(rawValue: 5)
    /// 6: file already exists.
    public static let fileExists = TFTPErrorCode(rawValue: 6)
    /// 7: no such user.
    public static let noSuchUser = TFTPErrorCode(rawValue: 7)
    /// 8: option negotiation refused (RFC 2347 §2).
    public static let optionsRefused = TFTPErrorCode(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 0: return "0 (not defined)"
        case 1: return "1 (file not found)"
        case 2: return "2 (access violation)"
        case 3: return "3 (disk full)"
        case 4: return "4 (illegal operation)"
        case 5: return "5 (unknown transfer ID)"
        case 6: return "6 (file exists)"
        case 7: return "7 (no such user)"
        case 8: return "8 (options refused)"
        default: return "\(rawValue)"
        }
    }
}
