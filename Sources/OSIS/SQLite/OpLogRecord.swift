import Foundation

/// One commit of the embedded store as its op log keeps it: every key and lease row the commit changed,
/// in their final state, so that replaying it onto the tables is idempotent.
///
/// On disk a record is framed as `[payload length: u32][CRC-32 of payload: u32][payload]`, little-endian.
/// The payload is the batch number, the store revision after the commit, the key changes and the lease
/// changes. Framing and checksum let a reader find where a torn tail begins.
struct OpLogRecord: Sendable, Equatable {
    /// Commits are numbered 1, 2, 3… across the store's life; `kv_meta`'s `batch` row holds the last one
    /// the tables contain, which is how a replay knows where to start.
    var batch: Int64
    var revision: Int64
    var changes: [KeyChange] = []
    var leases: [LeaseChange] = []

    var isEmpty: Bool { changes.isEmpty && leases.isEmpty }

    /// A key's state after the commit: written (`deleted` false) or gone. `seq` orders the changes that
    /// share one revision (one transaction's).
    struct KeyChange: Sendable, Equatable {
        var seq: Int64
        var deleted: Bool
        var keyValue: KeyValue

        var event: KVEvent { KVEvent(kind: deleted ? .delete : .put, keyValue: keyValue) }
    }

    enum LeaseChange: Sendable, Equatable {
        case set(id: KVLease.ID, ttlMilliseconds: Int64, expiresMilliseconds: Int64)
        case removed(id: KVLease.ID)
    }

    enum DecodeError: Error, Equatable {
        /// The bytes end before the frame or the payload does: a torn or zeroed tail.
        case truncated
        case checksumMismatch
        /// The checksum held but the payload does not parse: written by something else.
        case malformed(String)
    }

    static let frameHeaderSize = 8

    // MARK: Encoding

    func encoded() -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(32 + changes.reduce(0) { $0 + 56 + $1.keyValue.key.utf8.count + $1.keyValue.value.count } + leases.count * 25)
        payload.append(batch)
        payload.append(revision)
        payload.append(UInt32(changes.count))
        for change in changes {
            let kv = change.keyValue
            payload.append((change.deleted ? 1 : 0) | (kv.lease == nil ? 0 : 2) as UInt8)
            payload.append(change.seq)
            payload.append(kv.createRevision)
            payload.append(kv.modRevision)
            payload.append(kv.version)
            if let lease = kv.lease { payload.append(lease) }
            payload.appendSized(kv.key.utf8)
            payload.appendSized(kv.value)
        }
        payload.append(UInt32(leases.count))
        for lease in leases {
            switch lease {
            case .set(let id, let ttl, let expires):
                payload.append(0 as UInt8)
                payload.append(id)
                payload.append(ttl)
                payload.append(expires)
            case .removed(let id):
                payload.append(1 as UInt8)
                payload.append(id)
            }
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(Self.frameHeaderSize + payload.count)
        frame.append(UInt32(payload.count))
        frame.append(CRC32.checksum(payload))
        frame.append(contentsOf: payload)
        return frame
    }

    // MARK: Decoding

    /// Decodes the record framed at the start of `bytes`; returns it and the frame's length.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (record: OpLogRecord, length: Int) {
        guard bytes.count >= frameHeaderSize else { throw .truncated }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
        // A zeroed region (the preallocated file's unused end) reads as an empty frame.
        guard length > 0 else { throw .truncated }
        guard length <= bytes.count - frameHeaderSize else { throw .truncated }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[frameHeaderSize..<frameHeaderSize + length])
        guard CRC32.checksum(payload) == bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian else {
            throw .checksumMismatch
        }
        var reader = ByteReader(bytes: payload)
        do {
            var record = OpLogRecord(batch: try reader.int64(), revision: try reader.int64())
            for _ in 0..<(try reader.uint32()) {
                let flags = try reader.uint8()
                let seq = try reader.int64()
                let createRevision = try reader.int64(), modRevision = try reader.int64(), version = try reader.int64()
                let lease = flags & 2 != 0 ? try reader.int64() : nil
                guard let key = String(validating: try reader.sized(), as: UTF8.self) else { throw DecodeError.malformed("key is not UTF-8") }
                let value = Data(try reader.sized())
                record.changes.append(KeyChange(
                    seq: seq, deleted: flags & 1 != 0,
                    keyValue: KeyValue(
                        key: key, value: value, createRevision: createRevision, modRevision: modRevision, version: version,
                        lease: lease)))
            }
            for _ in 0..<(try reader.uint32()) {
                switch try reader.uint8() {
                case 0:
                    record.leases.append(.set(id: try reader.int64(), ttlMilliseconds: try reader.int64(), expiresMilliseconds: try reader.int64()))
                case 1:
                    record.leases.append(.removed(id: try reader.int64()))
                case let kind:
                    throw DecodeError.malformed("lease change kind \(kind)")
                }
            }
            guard reader.remaining == 0 else { throw DecodeError.malformed("\(reader.remaining) bytes after the record") }
            return (record, frameHeaderSize + length)
        } catch let error as DecodeError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }
}

/// Reads little-endian fields from a payload whose checksum already held.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws(OpLogRecord.DecodeError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw .malformed("a field runs past the end") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    mutating func uint8() throws(OpLogRecord.DecodeError) -> UInt8 { try take(1)[0] }
    mutating func uint32() throws(OpLogRecord.DecodeError) -> UInt32 { try take(4).loadUnaligned(as: UInt32.self).littleEndian }
    mutating func int64() throws(OpLogRecord.DecodeError) -> Int64 { try take(8).loadUnaligned(as: Int64.self).littleEndian }
    mutating func sized() throws(OpLogRecord.DecodeError) -> UnsafeRawBufferPointer { try take(Int(try uint32())) }
}

extension [UInt8] {
    fileprivate mutating func append<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func appendSized(_ bytes: some Collection<UInt8>) {
        append(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}

/// CRC-32 (IEEE 802.3, the one zlib computes), slicing by 8: eight table lookups per 8 bytes rather
/// than one per byte, since every group commit's record is checksummed on the writer's queue.
enum CRC32 {
    /// `tables[0]` is the classic byte table; `tables[k][i]` is the CRC of byte `i` followed by `k` zeros.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            tables[index] = crc
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            var offset = 0
            while offset + 8 <= bytes.count {
                let low = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian ^ crc
                let high = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                offset += 8
            }
            while offset < bytes.count {
                crc = t[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
        }
        return ~crc
    }
}
