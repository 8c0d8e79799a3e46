public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where WRQ uploads land, confined like reads: names pass `TFTPPath`, the folder a name points into
/// must resolve (`realpath(3)`) inside the directory, and nothing is created outside it.
///
/// An upload is written to a hidden temporary file beside its target and only takes the name when its
/// last block arrives, so a half-sent file is never seen under the name and a failed upload leaves
/// nothing behind. Existing files are not replaced unless `overwrite` is set; the check is made again,
/// atomically (`link(2)` fails on an existing name), at the commit.
public struct TFTPUploadDirectory: Sendable {
    /// The directory, resolved.
    public let root: String
    public let overwrite: Bool
    /// Largest upload accepted, in bytes.
    public let maxSize: Int

    /// Fails with `.notFound` when `path` does not exist.
    public init(path: String, overwrite: Bool = false, maxSize: Int = 64 << 20) throws(TFTPFileError) {
        guard let resolved = TFTPRootDirectory.realPath(path) else { throw .notFound }
        self.root = resolved
        self.overwrite = overwrite
        self.maxSize = maxSize
    }

    /// Starts an upload of `name`: checks it and opens its temporary file. `size` is the client's
    /// `tsize` (RFC 2349), refused up front when over the limit.
    public func create(_ name: String, size: Int?) throws(TFTPFileError) -> TFTPUpload {
        let name = try TFTPPath.validate(name)
        if let size, size > maxSize { throw .tooLarge }
        let slash = name.lastIndex(of: "/")
        let folder = slash.map { String(name[..<$0]) } ?? ""
        let base = slash.map { String(name[name.index(after: $0)...]) } ?? name
        guard !base.isEmpty, base != "." else { throw .accessViolation("not a file name") }
        guard let resolved = TFTPRootDirectory.realPath(folder.isEmpty ? root : root + "/" + folder) else { throw .notFound }
        guard resolved == root || resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw .accessViolation("resolves outside the upload directory")
        }
        let target = resolved + "/" + base
        var info = stat()
        if lstat(target, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw .accessViolation("not a regular file") }
            guard overwrite else { throw .exists }
        }
        for _ in 0..<8 {
            let temporary = resolved + "/.tftp-upload-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return TFTPUpload(descriptor: descriptor, temporary: temporary, target: target, overwrite: overwrite) }
            guard errno == EEXIST else { throw .writeFailed("cannot create: \(String(cString: strerror(errno)))") }
        }
        throw .writeFailed("cannot create a temporary file")
    }
}

/// One upload in progress: its temporary file, and the name it takes when complete.
public final class TFTPUpload: Sendable {
    let descriptor: Int32
    let temporary: String
    public let target: String
    let overwrite: Bool

    init(descriptor: Int32, temporary: String, target: String, overwrite: Bool) {
        self.descriptor = descriptor
        self.temporary = temporary
        self.target = target
        self.overwrite = overwrite
    }

    deinit {
        close(descriptor)
        discard()
    }

    /// Removes the temporary file: after a failure at once, and after a commit the name it no longer needs.
    public func discard() {
        unlink(temporary)
    }

    /// Appends `bytes`.
    public func write(_ bytes: ByteBuffer) throws(TFTPFileError) {
        var rest = bytes
        while rest.readableBytes > 0 {
            let written = rest.withUnsafeReadableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                throw errno == ENOSPC || errno == EDQUOT ? .tooLarge : .writeFailed(String(cString: strerror(errno)))
            }
            rest.moveReaderIndex(forwardBy: written)
        }
    }

    /// Gives the file its name: `link(2)` when existing files are kept (fails if the name was taken
    /// meanwhile), `rename(2)` when they may be replaced.
    public func commit() throws(TFTPFileError) {
        if overwrite {
            guard rename(temporary, target) == 0 else { throw .writeFailed(String(cString: strerror(errno))) }
            return
        }
        guard link(temporary, target) == 0 else { throw errno == EEXIST ? .exists : .writeFailed(String(cString: strerror(errno))) }
        discard()
    }
}
