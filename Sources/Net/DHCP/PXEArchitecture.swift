/// Client system architecture, option 93 (RFC 4578 §2.1, IANA "Processor Architecture Types").
public struct PXEArchitecture: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let bios = Self(rawValue: 0)
    public static let uefiIA32 = Self(rawValue: 6)
    public static let uefiX64 = Self(rawValue: 7)
    /// Sent by some x86-64 firmware (EDK2 before 2012, older HP/Dell) for the same thing as 7.
    public static let uefiBC = Self(rawValue: 9)
    public static let uefiARM64 = Self(rawValue: 11)
    public static let uefiX64HTTP = Self(rawValue: 16)
    public static let uefiARM64HTTP = Self(rawValue: 19)

    /// The name the inventory records (`Machine.architecture`).
    public var description: String {
        switch rawValue {
        case 0: return "bios"
        case 6: return "uefi-ia32"
        case 7, 9: return "uefi-x64"
        case 11: return "uefi-arm64"
        case 16: return "uefi-x64-http"
        case 19: return "uefi-arm64-http"
        default: return "arch-\(rawValue)"
        }
    }

    public var isHTTPBoot: Bool { rawValue == 16 || rawValue == 19 || rawValue == 15 || rawValue == 18 }
}
