public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened read-only for one or more transfers; closed when the last transfer lets go.
///
/// Reads are `pread` at an offset, so transfers sharing it never disturb each other. They run on the
/// transfer's event loop, 256 KiB at a time ahead of the blocks going out (`TFTPTransferHandler`): large
/// boot files (kernels, initrds) sit in the page cache, and a thread hop per read would cost more than
/// the read. Opening, and reading whole files for the cache, happen on the thread pool.
public final class TFTPOpenFile: Sendable {
    public let descriptor: Int32
    public let size: Int

    init(descriptor: Int32, size: Int) {
        self.descriptor = descriptor
        self.size = size
    }

    deinit { close(descriptor) }

    /// Appends the bytes of `range` to `buffer`.
    public func read(_ range: Range<Int>, into buffer: inout ByteBuffer) throws(TFTPFileError) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let wanted = range.upperBound - offset
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { pointer in
                max(pread(descriptor, pointer.baseAddress, wanted, off_t(offset)), 0)
            }
            // The file shrank under us: a short DATA would end the transfer with the wrong size, so fail it.
            guard count > 0 else { throw .readFailed("file changed while being served") }
            offset += count
        }
    }

    /// The whole file, for the cache.
    func readAll() throws(TFTPFileError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        try read(0..<size, into: &buffer)
        return buffer
    }
}
