import Foundation
import Testing

@testable import OSIS

/// etcd's gateway JSON, from bytes etcd 3.4 really sent, to our values; and our requests to its JSON.
@Suite struct EtcdJSONTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func rangeResponseWithStringInt64sAndDefaultsLeftOut() throws {
        // curl -X POST $E/v3/kv/range -d '{"key":"L3Qv","range_end":"L3Qw","limit":"1"}'
        let response = try decode(EtcdRangeResponse.self, """
            {"header":{"cluster_id":"2744456395199001782","member_id":"17126964453175843767","revision":"2",\
            "raft_term":"2"},"kvs":[{"key":"L3QvYQ==","create_revision":"2","mod_revision":"2","version":"1",\
            "value":"b25l"}],"count":"1"}
            """)
        #expect(response.header?.storeRevision == 2)
        #expect(response.more == nil)
        #expect(response.kvs?.map(\.keyValue) == [
            KeyValue(key: "/t/a", value: Data("one".utf8), createRevision: 2, modRevision: 2, version: 1)
        ])
    }

    @Test func watchResponseBecomesOneBatchPerRevision() throws {
        // A watch from revision 1 replaying a put at 2, then a txn at 3 that put /t/c and deleted /t/a.
        let message = try decode(EtcdStreamMessage<EtcdWatchResponse>.self, """
            {"result":{"header":{"revision":"3"},"events":[{"kv":{"key":"L3QvYQ==","create_revision":"2",\
            "mod_revision":"2","version":"1","value":"b25l"}},{"kv":{"key":"L3QvYw==","create_revision":"3",\
            "mod_revision":"3","version":"1","value":"eA==","lease":"6608929133798330648"}},{"type":"DELETE",\
            "kv":{"key":"L3QvYQ==","mod_revision":"3"}}]}}
            """)
        let events = try #require(message.result?.events).map(\.event)
        let batches = WatchHub.groupedByRevision(events)
        #expect(batches.map { $0.map(\.revision) } == [[2], [3, 3]])
        #expect(batches[1].map(\.kind) == [.put, .delete])
        #expect(batches[1][0].keyValue.lease == 6_608_929_133_798_330_648)
        #expect(batches[1][1].keyValue == KeyValue(key: "/t/a", value: Data(), createRevision: 0, modRevision: 3, version: 0))
    }

    @Test func compactedWatchIsCancelledWithTheCompactRevision() throws {
        let message = try decode(EtcdStreamMessage<EtcdWatchResponse>.self, """
            {"result":{"header":{"cluster_id":"2744456395199001782","member_id":"17126964453175843767",\
            "raft_term":"2"},"canceled":true,"compact_revision":"3"}}
            """)
        #expect(message.result?.canceled == true)
        #expect(message.result?.compact_revision?.value == 3)
    }

    @Test func errorsMapToOurs() throws {
        let leaseMissing = try decode(EtcdStatus.self, """
            {"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}
            """)
        #expect(KVError(leaseMissing, at: "e", leases: [7]) == .leaseNotFound(7))
        let duplicate = EtcdStatus(code: 3, message: "etcdserver: duplicate key given in txn request")
        #expect(KVError(duplicate, at: "e") == .invalid("etcd: etcdserver: duplicate key given in txn request"))
        let noLeader = try decode(EtcdStreamMessage<EtcdWatchResponse>.self, """
            {"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}
            """)
        #expect(noLeader.error.map { KVError($0, at: "e") } == .unavailable("e: etcdserver: no leader (gRPC status 14)"))
    }

    @Test func keepAliveOfAGoneLeaseHasNoTTL() throws {
        let message = try decode(EtcdStreamMessage<EtcdLeaseResponse>.self, """
            {"result":{"header":{"revision":"2","raft_term":"2"},"ID":"6608929133798330636"}}
            """)
        #expect(message.result?.ID?.value == 6_608_929_133_798_330_636)
        #expect(message.result?.TTL == nil)
    }

    @Test func unconditionalWritesAreBarePutsAndDeletes() throws {
        let put = try EtcdTransactionCall(KVTransaction(then: [.put("/a", Data("x".utf8), lease: 9)]))
        #expect(put.path == "/v3/kv/put")
        #expect(try json(put.body) == #"{"key":"L2E=","lease":"9","value":"eA=="}"#)
        let prefix = try EtcdTransactionCall(KVTransaction(then: [.deletePrefix("/a/")]))
        #expect(prefix.path == "/v3/kv/deleterange")
        #expect(try json(prefix.body) == #"{"key":"L2Ev","range_end":"L2Ew"}"#)  // ["/a/", "/a0")
    }

    @Test func compareAndSetIsATxnOnModRevisionZeroForAbsent() throws {
        let call = try EtcdTransactionCall(KVTransaction(
            if: [.modRevision("/a", equals: 0)], then: [.put("/a", Data(), lease: nil)], else: [.delete("/a")]))
        #expect(call.path == "/v3/kv/txn")
        #expect(try json(call.body) == """
            {"compare":[{"key":"L2E=","mod_revision":"0","result":"EQUAL","target":"MOD"}],\
            "failure":[{"request_delete_range":{"key":"L2E="}}],"success":[{"request_put":{"key":"L2E=","value":""}}]}
            """)
    }

    @Test func writesOfBadKeysAreRefusedBeforeSending() {
        #expect(throws: KVError.self) { try EtcdTransactionCall(KVTransaction(then: [.put("/ü", Data(), lease: nil)])) }
        #expect(throws: KVError.self) {
            try EtcdTransactionCall(KVTransaction(then: [], else: [.put(String(repeating: "k", count: 1025), Data(), lease: nil)]))
        }
    }

    @Test func prefixRanges() {
        #expect(EtcdKeyRange.prefix("/a/") == (EtcdBytes("/a/"), EtcdBytes("/a0")))
        #expect(EtcdKeyRange.prefix("") == (EtcdKeyRange.zero, EtcdKeyRange.zero))
        #expect(EtcdKeyRange.prefix("/a/", after: "/a/k").key == EtcdBytes(Data("/a/k".utf8) + [0]))
        #expect(EtcdKeyRange.prefix("/a/", after: "/0").key == EtcdBytes("/a/"))
    }

    @Test func endpoints() throws {
        let endpoint = try EtcdEndpoint(parsing: "http://10.0.0.5")
        #expect(endpoint.host == "10.0.0.5" && endpoint.port == 2379)
        #expect(try EtcdEndpoint(parsing: "http://127.0.0.1:38665/").port == 38665)
        #expect(throws: KVError.self) { try EtcdEndpoint(parsing: "https://10.0.0.5:2379") }
        #expect(throws: KVError.self) { try EtcdEndpoint(parsing: "http://10.0.0.5:2379/v3") }
        #expect(throws: KVError.self) { try EtcdEndpoint(parsing: "10.0.0.5:2379") }
    }
}
