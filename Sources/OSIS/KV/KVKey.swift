/// The key rules every backend shares, so a key one backend takes the others take too.
enum KVKey {
    /// The longest key, in bytes; etcd would take more, but a key is a name, not a value.
    static let maximumLength = 1024

    /// Keys are 1 to 1024 printable ASCII characters: they sort the same bytewise (etcd) and as text
    /// (SQLite), appear unescaped in logs and URLs, and leave 0x7f free as the end of every prefix range.
    static func validate(_ key: String) throws(KVError) {
        guard !key.isEmpty, key.utf8.count <= maximumLength, key.utf8.allSatisfy({ (0x20..<0x7f).contains($0) }) else {
            throw KVError.invalid("keys are 1 to \(maximumLength) printable ASCII characters: '\(key)'")
        }
    }

    /// The smallest string greater than every string starting with `prefix` (keys are ASCII), or nil for
    /// "no bound" (the empty prefix).
    static func prefixEnd(_ prefix: String) -> String? {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0x7f {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return nil
    }
}
