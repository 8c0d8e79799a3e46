import NIOCore

/// Writes DATA packets (header and payload) for a transfer's blocks, from memory or from an open file.
///
/// A `.file` is read ahead of the blocks going out, `readAheadSize` at a time: one `pread` per 64 KiB
/// instead of one per block (a 512-byte lock-step transfer of a large file would otherwise spend a
/// syscall on every block). No more than that: with 64 KiB blocks, lock-step, the blocking adapter reads
/// the next block while the client takes this one, as tftpd-hpa does, and a read of several blocks at
/// once outlasted the client's turn (0.85x tftpd-hpa at 256 KiB, 1.1x at 64 KiB); the buffer also stays
/// in the core's cache between the read and the send. Both transfer adapters use it.
struct TFTPBlockReader {
    let content: TFTPFileContent
    private var readAhead = ByteBuffer()
    private var readAheadStart = 0
    static let readAheadSize = 64 << 10

    init(content: TFTPFileContent) { self.content = content }

    /// Appends DATA `block` of `transfer` to `buffer`; returns the payload's size.
    @discardableResult
    mutating func appendData(_ block: UInt64, of transfer: TFTPTransfer, to buffer: inout ByteBuffer) throws(TFTPFileError) -> Int {
        buffer.writeInteger(TFTPOpcode.data.rawValue)
        buffer.writeInteger(TFTPTransfer.wireNumber(block))
        return try withPayload(block, of: transfer) { payload in buffer.writeBytes(payload) }
    }

    /// Calls `body` with the payload of DATA `block`, in place: no copy when the content is in memory or
    /// already read ahead.
    mutating func withPayload<R>(_ block: UInt64, of transfer: TFTPTransfer, _ body: (UnsafeRawBufferPointer) -> R) throws(TFTPFileError) -> R {
        let range = transfer.byteRange(ofBlock: block)
        switch content {
        case .memory(let bytes):
            return bytes.withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        case .file(let file):
            if !isReadAhead(range) { try readAhead(from: range.lowerBound, of: file, for: transfer) }
            let start = readAheadStart
            return readAhead.withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[range.lowerBound - start..<range.upperBound - start])) }
        }
    }

    /// Reads the bytes of `block` and those after it now, unless they are in memory already. The blocking
    /// adapter calls it after sending, so the read overlaps the client receiving and acknowledging instead
    /// of waiting for its ACK (tftpd-hpa reads ahead the same way).
    mutating func prefetch(_ block: UInt64, of transfer: TFTPTransfer) throws(TFTPFileError) {
        guard case .file(let file) = content, block <= transfer.lastBlock else { return }
        let range = transfer.byteRange(ofBlock: block)
        if !range.isEmpty, !isReadAhead(range) { try readAhead(from: range.lowerBound, of: file, for: transfer) }
    }

    private func isReadAhead(_ range: Range<Int>) -> Bool {
        range.lowerBound >= readAheadStart && range.upperBound <= readAheadStart + readAhead.readableBytes
    }

    /// A whole number of blocks from `offset`, about `readAheadSize` (at least one block), whatever the
    /// window: a buffer still in the core's cache when it is sent is worth more than the `pread`s it saves.
    private mutating func readAhead(from offset: Int, of file: TFTPOpenFile, for transfer: TFTPTransfer) throws(TFTPFileError) {
        let blockSize = transfer.negotiation.blockSize
        let blocks = max(Self.readAheadSize / blockSize, 1)
        readAheadStart = offset
        readAhead.clear()
        try file.read(offset..<min(offset + blocks * blockSize, file.size), into: &readAhead)
    }
}
