/// The file-name rules every request passes before any file source sees it.
///
/// Names are relative to the TFTP root. Refused: empty names, absolute paths, `..` components,
/// backslashes (some firmware sends DOS paths; they are never translated) and control characters.
/// Symlinks are checked later, by `TFTPRootDirectory`, against the resolved path.
public enum TFTPPath {
    /// The name, checked; throws `.accessViolation` naming the rule it broke.
    public static func validate(_ name: String) throws(TFTPFileError) -> String {
        guard !name.isEmpty else { throw .accessViolation("empty file name") }
        guard !name.hasPrefix("/") else { throw .accessViolation("absolute path") }
        guard !name.contains("\\") else { throw .accessViolation("backslash in path") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .accessViolation("control character in path")
        }
        guard !name.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw .accessViolation("'..' in path")
        }
        return name
    }
}
