import Foundation

/// A fresh directory under the system temp dir, removed when the value is discarded by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// - Parameter base: where to create it (the system temp dir by default); `TemporaryDirectory.memory`
    ///   puts it on tmpfs, where fsync costs nothing.
    public init(_ label: String = "provision-test", under base: String? = nil) throws {
        path = (base ?? NSTemporaryDirectory()) + "/\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// tmpfs where Linux mounts one at /dev/shm; the system temp dir otherwise.
    public static var memory: String {
        FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` inside the directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
