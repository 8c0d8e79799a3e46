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

/// netascii decoding for `mode netascii` uploads, block by block: CR LF becomes LF and CR NUL becomes CR,
/// the mirror of `TFTPNetascii.encode`. A CR that ends one block waits for the next to be decided.
public struct TFTPNetasciiDecoder: Sendable {
    private var pendingCR = false

    public init() {}

    public mutating func decode(_ input: ByteBuffer) -> ByteBuffer {
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes + 1)
        for byte in input.readableBytesView {
            if pendingCR {
                pendingCR = false
                switch byte {
                case 0x0A: output.writeInteger(UInt8(0x0A))
                case 0x00: output.writeInteger(UInt8(0x0D))
                // Not netascii, but a client sent it: keep both bytes rather than guess.
                case 0x0D:
                    output.writeInteger(UInt8(0x0D))
                    pendingCR = true
                default: output.writeBytes([0x0D, byte])
                }
            } else if byte == 0x0D {
                pendingCR = true
            } else {
                output.writeInteger(byte)
            }
        }
        return output
    }

    /// What is left at the end: a lone CR as the very last byte.
    public mutating func finish() -> ByteBuffer {
        defer { pendingCR = false }
        return pendingCR ? ByteBuffer(bytes: [0x0D]) : ByteBuffer()
    }
}
