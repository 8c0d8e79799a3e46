public import NIOCore

/// Writes a DNS message into a ByteBuffer, compressing names against those already written (RFC 1035
/// §4.1.4). Offsets are relative to where the message starts in the buffer.
public struct DNSWireWriter {
    public var buffer: ByteBuffer
    let start: Int
    /// Suffixes written so far that a pointer can reach: `wire[index...]` starts at `offset`. A message
    /// holds a few dozen at most, so a scan filtered by length beats hashing every suffix.
    var suffixes: [(wire: [UInt8], index: Int, offset: UInt16)] = []

    public init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
        self.start = buffer.writerIndex
    }

    /// Bytes written since the message started.
    public var count: Int { buffer.writerIndex - start }

    mutating func write(_ value: UInt8) { buffer.writeInteger(value) }
    mutating func write(_ value: UInt16) { buffer.writeInteger(value) }
    mutating func write(_ value: UInt32) { buffer.writeInteger(value) }
    mutating func write(_ bytes: some Sequence<UInt8>) { buffer.writeBytes(bytes) }

    /// Writes `name`, pointing at a prior occurrence of its longest known suffix when `compress` is set;
    /// the name's new suffixes are remembered either way (RFC 3597 §4: names in unknown or newer types
    /// are written whole, but may still be pointed at).
    mutating func write(_ name: DNSName, compress: Bool = true) {
        let wire = name.wire
        var index = 0
        while wire[index] != 0 {
            if compress, let pointer = earlier(wire, from: index) {
                buffer.writeInteger(0xC000 | pointer)
                return
            }
            let here = count
            // Pointers hold 14 bits: suffixes past 16 KiB cannot be pointed at.
            if here < 0x4000 { suffixes.append((wire, index, UInt16(here))) }
            let length = Int(wire[index])
            buffer.writeBytes(wire[index...(index + length)])
            index += length + 1
        }
        buffer.writeInteger(UInt8(0))
    }

    /// Where `wire[index...]` was written before, ignoring ASCII case (RFC 4343 §3).
    private func earlier(_ wire: [UInt8], from index: Int) -> UInt16? {
        let length = wire.count - index
        for suffix in suffixes where suffix.wire.count - suffix.index == length {
            var position = 0
            while position < length, Self.folded(wire[index + position]) == Self.folded(suffix.wire[suffix.index + position]) {
                position += 1
            }
            if position == length { return suffix.offset }
        }
        return nil
    }

    @inline(__always) private static func folded(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }

    /// Sets the 16-bit value at `offset` from the message start (counts, RDLENGTH).
    mutating func set(_ value: UInt16, at offset: Int) {
        buffer.setInteger(value, at: start + offset)
    }

    /// Drops everything written after `offset` (a record that did not fit) and forgets its names.
    mutating func truncate(to offset: Int) {
        buffer.moveWriterIndex(to: start + offset)
        suffixes.removeAll { Int($0.offset) >= offset }
    }
}
