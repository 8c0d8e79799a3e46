import NIOCore

/// Writes DATA packets (header and payload) for a transfer's blocks, from memory or from an open file.
///
/// A `.file` is read ahead of the blocks going out, `readAheadSize` at a time: one `pread` per 256 KiB
/// instead of one per block (a 512-byte lock-step transfer of a large file would otherwise spend a
/// syscall on every block). Both transfer adapters (the NIO handler and the blocking socket) use it.
struct TFTPBlockReader {
    let content: TFTPFileContent
    private var readAhead = ByteBuffer()
    private var readAheadStart = 0
    static let readAheadSize = 256 << 10

    init(content: TFTPFileContent) { self.content = content }

    /// Appends DATA `block` of `transfer` to `buffer`; returns the payload's size.
    @discardableResult
    mutating func appendData(_ block: UInt64, of transfer: TFTPTransfer, to buffer: inout ByteBuffer) throws(TFTPFileError) -> Int {
        let range = transfer.byteRange(ofBlock: block)
        buffer.writeInteger(TFTPOpcode.data.rawValue)
        buffer.writeInteger(TFTPTransfer.wireNumber(block))
        switch content {
        case .memory(let bytes):
            buffer.writeImmutableBuffer(bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)!)
        case .file(let file):
            if range.lowerBound < readAheadStart || range.upperBound > readAheadStart + readAhead.readableBytes {
                // A whole number of blocks, at least a window.
                let blockSize = transfer.negotiation.blockSize
                let blocks = max(Self.readAheadSize / blockSize, transfer.negotiation.windowSize, 1)
                readAheadStart = range.lowerBound
                readAhead.clear()
                try file.read(range.lowerBound..<min(range.lowerBound + blocks * blockSize, file.size), into: &readAhead)
            }
            buffer.writeImmutableBuffer(readAhead.getSlice(at: readAhead.readerIndex + range.lowerBound - readAheadStart, length: range.count)!)
        }
        return range.count
    }
}
