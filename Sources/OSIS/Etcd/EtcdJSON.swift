import Foundation

// The JSON forms of etcd v3's protobuf messages, as its gRPC gateway speaks them (etcdserverpb/rpc.proto,
// mvccpb/kv.proto). Only the fields the KV store uses are modelled. proto3 JSON leaves out fields at their
// default (0, false, empty), so every decoded field is optional and read through a default.

/// An int64 field: proto3 JSON writes 64-bit integers as strings (a JSON number would lose precision in
/// JavaScript), and the gateway also accepts them that way.
struct EtcdInt64: Codable, Sendable, Hashable {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Int64(text) {
            self.value = value
        } else {
            value = try container.decode(Int64.self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(value))
    }
}

/// A bytes field: base64 in JSON. Keys are ASCII text to us and bytes to etcd.
struct EtcdBytes: Codable, Sendable, Hashable {
    var data: Data

    init(_ data: Data) { self.data = data }
    init(_ text: String) { data = Data(text.utf8) }

    var text: String { String(decoding: data, as: UTF8.self) }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not base64"))
        }
        self.data = data
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(data.base64EncodedString())
    }
}

/// `ResponseHeader`: every response carries the store revision it was served at.
struct EtcdHeader: Decodable, Sendable {
    var revision: EtcdInt64?

    var storeRevision: Int64 { revision?.value ?? 0 }
}

/// `mvccpb.KeyValue`.
struct EtcdKeyValue: Decodable, Sendable {
    var key: EtcdBytes
    var value: EtcdBytes?
    var create_revision: EtcdInt64?
    var mod_revision: EtcdInt64?
    var version: EtcdInt64?
    var lease: EtcdInt64?

    var keyValue: KeyValue {
        KeyValue(
            key: key.text, value: value?.data ?? Data(), createRevision: create_revision?.value ?? 0,
            modRevision: mod_revision?.value ?? 0, version: version?.value ?? 0,
            lease: lease.flatMap { $0.value == 0 ? nil : $0.value })
    }
}

/// `RangeRequest`: `key` alone reads one key; with `range_end`, the keys in [key, range_end).
struct EtcdRangeRequest: Encodable, Sendable {
    var key: EtcdBytes
    var range_end: EtcdBytes?
    var limit: EtcdInt64?
    var count_only: Bool?
}

struct EtcdRangeResponse: Decodable, Sendable {
    var header: EtcdHeader?
    var kvs: [EtcdKeyValue]?
    var more: Bool?
}

/// `PutRequest`; lease 0 means none, so it is left out.
struct EtcdPutRequest: Encodable, Sendable {
    var key: EtcdBytes
    var value: EtcdBytes
    var lease: EtcdInt64?
}

/// `DeleteRangeRequest`.
struct EtcdDeleteRangeRequest: Encodable, Sendable {
    var key: EtcdBytes
    var range_end: EtcdBytes?
}

/// `Compare`: our two kinds of condition, both with result EQUAL.
struct EtcdCompare: Encodable, Sendable {
    var key: EtcdBytes
    var target: String
    var result = "EQUAL"
    var mod_revision: EtcdInt64?
    var value: EtcdBytes?
}

/// `RequestOp`: exactly one of the fields is set.
struct EtcdRequestOp: Encodable, Sendable {
    var request_put: EtcdPutRequest?
    var request_delete_range: EtcdDeleteRangeRequest?
}

/// `TxnRequest`.
struct EtcdTxnRequest: Encodable, Sendable {
    var compare: [EtcdCompare]
    var success: [EtcdRequestOp]
    var failure: [EtcdRequestOp]
}

/// What `put`, `deleterange`, `txn` and `maintenance/status` answer that we read: the revision after the
/// write, and for a transaction whether its comparisons held.
struct EtcdWriteResponse: Decodable, Sendable {
    var header: EtcdHeader?
    var succeeded: Bool?
}

/// `LeaseGrantRequest`; an ID of 0 lets etcd choose one.
struct EtcdLeaseGrantRequest: Encodable, Sendable {
    var TTL: EtcdInt64
}

/// `LeaseRevokeRequest` and `LeaseKeepAliveRequest`.
struct EtcdLeaseIDRequest: Encodable, Sendable {
    var ID: EtcdInt64
}

/// `LeaseGrantResponse` and `LeaseKeepAliveResponse`: a TTL of 0 (left out) means the lease is gone.
struct EtcdLeaseResponse: Decodable, Sendable {
    var ID: EtcdInt64?
    var TTL: EtcdInt64?
    var error: String?
}

/// `CompactionRequest`.
struct EtcdCompactionRequest: Encodable, Sendable {
    var revision: EtcdInt64
}

/// One message of a server stream (keepalive, watch): the gateway wraps each in `result`, or sends an
/// `error` object instead.
struct EtcdStreamMessage<Result: Decodable & Sendable>: Decodable, Sendable {
    var result: Result?
    var error: EtcdStatus?
}

/// A gRPC status as the gateway writes it: `{"error": "...", "message": "...", "code": 5}` for a unary
/// call; inside a stream's `error` object as `{"grpc_code": 5, "message": "..."}`.
struct EtcdStatus: Decodable, Sendable, Error {
    var code: Int?
    var grpc_code: Int?
    var message: String?
    var error: String?

    var grpcCode: Int { code ?? grpc_code ?? 2 }
    var text: String { message ?? error ?? "gRPC status \(grpcCode)" }

    init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}

/// `WatchRequest` with its `create_request`: watch `[key, range_end)` from `start_revision` on.
struct EtcdWatchRequest: Encodable, Sendable {
    struct Create: Encodable, Sendable {
        var key: EtcdBytes
        var range_end: EtcdBytes
        var start_revision: EtcdInt64
    }

    var create_request: Create
}

/// `WatchResponse`: the first says `created`; later ones carry events, whole revisions at a time (etcd
/// splits a revision across responses only when asked to `fragment`); a `canceled` one with a
/// `compact_revision` says the start revision was compacted away.
struct EtcdWatchResponse: Decodable, Sendable {
    struct Event: Decodable, Sendable {
        /// "PUT" is the default, so only "DELETE" is written out.
        var type: String?
        var kv: EtcdKeyValue

        var event: KVEvent {
            KVEvent(kind: type == "DELETE" ? .delete : .put, keyValue: kv.keyValue)
        }
    }

    var header: EtcdHeader?
    var created: Bool?
    var canceled: Bool?
    var compact_revision: EtcdInt64?
    var cancel_reason: String?
    var events: [Event]?
}
