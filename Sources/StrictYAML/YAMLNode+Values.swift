import Yams

/// Typed readers for scalar, list and mapping nodes. Each records "expected …" at the node when the
/// shape is wrong and returns nil.
extension YAMLNode {
    public func string() -> String? {
        guard case .scalar(let scalar) = node, !isNull else { return mismatch("a string") }
        return scalar.string
    }

    public func int(in range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
            return mismatch("an integer")
        }
        if let range, !range.contains(value) {
            error("\(value) is out of range: expected \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    public func bool() -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return mismatch("true or false") }
        switch scalar.string {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        default: return mismatch("true or false")
        }
    }

    /// A duration written as `90s`, `15m`, `1h30m`, `2d` or `500ms`.
    public func duration() -> Duration? {
        guard let text = string() else { return nil }
        guard let value = DurationText.parse(text) else {
            error("'\(text)' is not a duration: expected e.g. 30s, 15m, 1h30m, 2d")
            return nil
        }
        return value
    }

    /// One of a fixed set of words.
    public func oneOf(_ choices: [String]) -> String? {
        guard let text = string() else { return nil }
        guard choices.contains(text) else {
            error("'\(text)' is not one of: \(choices.joined(separator: ", "))")
            return nil
        }
        return text
    }

    public func list() -> [YAMLNode]? {
        guard case .sequence(let sequence) = node else { return mismatch("a list") }
        return sequence.map(child)
    }

    /// A list whose elements are read by `element`; elements that fail are left out (and reported).
    public func list<T>(_ element: (YAMLNode) -> T?) -> [T]? {
        list()?.compactMap(element)
    }

    /// A mapping with string keys. Keys that the caller never asks for are reported by `YAMLMapping.finish()`.
    public func mapping() -> YAMLMapping? {
        guard case .mapping(let mapping) = node else { return mismatch("a mapping") }
        var entries: [(key: YAMLNode, value: YAMLNode)] = []
        for (key, value) in mapping {
            let keyNode = child(key)
            guard case .scalar = key else {
                keyNode.error("mapping keys must be plain strings")
                continue
            }
            entries.append((keyNode, child(value)))
        }
        return YAMLMapping(owner: self, entries: entries)
    }

    private func mismatch<T>(_ expected: String) -> T? {
        let found: String
        if case .scalar(let scalar) = node, !isNull {
            found = "'\(scalar.string)'"
        } else {
            found = shapeName
        }
        error("expected \(expected), found \(found)")
        return nil
    }
}
