public import NIOCore

/// netascii encoding for `mode netascii` reads (RFC 1350 §1, NVT ASCII of RFC 764).
public enum TFTPNetascii {
    /// Converts a local file: LF becomes CR LF and every CR becomes CR NUL, so a client that decodes
    /// (tftp-hpa in `ascii` mode does) gets back exactly the bytes on disk, CR LF line ends included.
    public static func encode(_ input: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes + input.readableBytes / 16 + 16)
        for byte in input.readableBytesView {
            switch byte {
            case 0x0A: output.writeBytes([0x0D, 0x0A])
            case 0x0D: output.writeBytes([0x0D, 0x00])
            default: output.writeInteger(byte)
            }
        }
        return output
    }
}
