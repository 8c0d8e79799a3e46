public import NIOCore

/// netascii encoding for `mode netascii` reads (RFC 1350 §1, NVT ASCII of RFC 764).
public enum TFTPNetascii {
    /// Converts a local text file: LF becomes CR LF and a bare CR becomes CR NUL. A CR LF already in the
    /// file is kept as it is, so Windows-style files do not grow a second CR.
    public static func encode(_ input: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes + input.readableBytes / 16 + 16)
        let view = input.readableBytesView
        var index = view.startIndex
        while index < view.endIndex {
            let byte = view[index]
            let next = view.index(after: index)
            if byte == 0x0A {
                output.writeBytes([0x0D, 0x0A])
            } else if byte == 0x0D {
                if next < view.endIndex, view[next] == 0x0A {
                    output.writeBytes([0x0D, 0x0A])
                    index = view.index(after: next)
                    continue
                }
                output.writeBytes([0x0D, 0x00])
            } else {
                output.writeInteger(byte)
            }
            index = next
        }
        return output
    }
}
