/// What the server allows clients to ask for.
public struct TFTPLimits: Sendable, Hashable {
    /// Largest block size granted; RFC 2348 §2 allows 8 to 65464.
    public var maxBlockSize: Int
    /// Largest window granted; RFC 7440 §3 allows 1 to 65535.
    public var maxWindowSize: Int
    /// Largest window in bytes (blksize × windowsize): a window must fit the client's socket receive buffer
    /// (Linux's default is 208 KiB, and each datagram costs more than its payload there) or most of it is
    /// dropped on arrival and the transfer crawls through retransmissions.
    public var maxWindowBytes: Int
    /// Retransmission timeout when the client does not set one (RFC 2349 §2 `timeout`).
    public var timeout: Duration
    /// The backoff doubles the timeout after each silent period, up to this.
    public var maxTimeout: Duration
    /// Silent periods tolerated before the transfer is abandoned.
    public var maxRetries: Int

    public init(
        maxBlockSize: Int = 65464, maxWindowSize: Int = 64, maxWindowBytes: Int = 96 << 10,
        timeout: Duration = .seconds(1),
        maxTimeout: Duration = .seconds(8), maxRetries: Int = 5
    ) {
        self.maxBlockSize = min(max(maxBlockSize, 8), 65464)
        self.maxWindowSize = min(max(maxWindowSize, 1), 65535)
        self.maxWindowBytes = maxWindowBytes
        self.timeout = timeout
        self.maxTimeout = maxTimeout
        self.maxRetries = maxRetries
    }
}

/// The outcome of option negotiation (RFC 2347 §2): the parameters a transfer runs with and the OACK,
/// or nil for a request that asked for nothing the server accepts (then DATA 1 answers the RRQ).
public struct TFTPNegotiation: Sendable, Hashable {
    /// RFC 1350's 512 unless `blksize` was granted.
    public var blockSize: Int = 512
    /// 1 (lock-step) unless `windowsize` was granted.
    public var windowSize: Int = 1
    /// The first retransmission timeout.
    public var timeout: Duration
    /// The options acknowledged, in the client's order; nil when none was.
    public var optionAck: TFTPOptionList?

    /// Reads `requested` against `limits`. Unknown options and values out of range are left out of the OACK,
    /// as RFC 2347 §2 says; a block size or window above the limit is granted at the limit (RFC 2348 §2,
    /// RFC 7440 §3). `size` is the byte count `tsize` reports (RFC 2349 §3).
    public init(requested: TFTPOptionList, limits: TFTPLimits, size: Int) {
        timeout = limits.timeout
        var granted: [TFTPOptionList.Option] = []
        var seen: Set<String> = []
        for option in requested.entries {
            let name = option.name.lowercased()
            // A repeated option is answered once, for its first occurrence.
            guard seen.insert(name).inserted, let value = Self.decimal(option.value) else { continue }
            switch name {
            case "blksize" where value >= 8:
                blockSize = min(value, limits.maxBlockSize)
                granted.append(.init(option.name, String(blockSize)))
            case "windowsize" where value >= 1 && value <= 65535:
                windowSize = min(value, limits.maxWindowSize)
                granted.append(.init(option.name, String(windowSize)))
            case "timeout" where value >= 1 && value <= 255:
                timeout = .seconds(value)
                granted.append(.init(option.name, String(value)))
            // curl (7.88) aborts on an OACK with tsize 0, so an empty file's size goes unsaid; RFC 2347 §2 lets
            // a server leave any option out.
            case "tsize" where size > 0:
                granted.append(.init(option.name, String(size)))
            default:
                continue
            }
        }
        // The window is granted in bytes as well as blocks; blksize may come after windowsize, so this is last.
        if let index = granted.firstIndex(where: { $0.name.lowercased() == "windowsize" }) {
            windowSize = max(1, min(windowSize, limits.maxWindowBytes / blockSize))
            granted[index].value = String(windowSize)
        }
        optionAck = granted.isEmpty ? nil : TFTPOptionList(granted)
    }

    /// A non-negative decimal of at most 9 digits: anything longer is out of every range anyway.
    static func decimal(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}
