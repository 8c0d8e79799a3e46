import Foundation

/// The key ranges our prefix model becomes in etcd's `[key, range_end)` model.
enum EtcdKeyRange {
    /// etcd's "\0": as `key` with `range_end` "\0", every key; as `range_end` alone, every key from `key` on.
    static let zero = EtcdBytes(Data([0]))

    /// The keys starting with `prefix`: [prefix, prefix+1), or all keys for the empty prefix.
    static func prefix(_ prefix: String) -> (key: EtcdBytes, end: EtcdBytes) {
        let end = KVKey.prefixEnd(prefix).map(EtcdBytes.init) ?? zero
        return (prefix.isEmpty ? zero : EtcdBytes(prefix), end)
    }

    /// The keys starting with `prefix` that sort after `after`: the range starts at the smallest key
    /// greater than `after`, which is `after` followed by a zero byte.
    static func prefix(_ prefix: String, after: String?) -> (key: EtcdBytes, end: EtcdBytes) {
        var range = Self.prefix(prefix)
        if let after, after >= prefix { range.key = EtcdBytes(Data(after.utf8) + [0]) }
        return range
    }
}
