import Foundation
import OSIS
import Testing
import TestSupport

/// On a 3-member cluster (`scripts/services.sh start etcd3`; skipped without one, CI starts a single
/// member): a member cut off from the client hands its calls and its watch to another member.
extension EtcdKVTests {
    @Test func watchAndReadsMoveToAnotherMemberWhenOneIsCutOff() async throws {
        guard let list = RealServices.value("PROVISION_TEST_ETCD3_ENDPOINTS") else { return }
        let members = list.split(separator: ",").map(String.init)
        try #require(members.count == 3)
        var proxies: [TCPProxy] = []
        for member in members {
            let url = try #require(URLComponents(string: member))
            proxies.append(try await TCPProxy(to: try #require(url.host), port: try #require(url.port)))
        }
        // The store reaches every member through a proxy; writes go straight to the third member, so
        // that none of them is ever in doubt.
        let store = try EtcdKV(endpoints: proxies.map { "http://127.0.0.1:\($0.port)" })
        let writer = try EtcdKV(endpoints: [members[2]])
        let prefix = "/provision-test/\(UUID().uuidString)/"
        func write(_ range: Range<Int>) async throws {
            for i in range { try await writer.put(prefix + String(format: "%02d", i), Data("\(i)".utf8)) }
        }
        var watch = store.watch(prefix: prefix, after: try await writer.currentRevision()).makeAsyncIterator()
        var events: [KVEvent] = []
        try await write(0..<20)
        while events.count < 20, let batch = try await watch.next() { events += batch }
        #expect(proxies[0].forwardedCount > 0, "the first member served the watch")

        // Member 0 goes away: its connections drop and new ones are refused.
        proxies[0].refuse(true)
        try await write(20..<40)
        #expect(try await store.get(prefix + "39")?.value == Data("39".utf8))
        while events.count < 40, let batch = try await watch.next() { events += batch }
        #expect(events.map(\.keyValue.key) == (0..<40).map { prefix + String(format: "%02d", $0) })
        #expect(proxies[1].forwardedCount + proxies[2].forwardedCount > 0)

        _ = try await writer.transaction(KVTransaction(then: [.deletePrefix(prefix)]))
        await store.close()
        await writer.close()
        for proxy in proxies { await proxy.stop() }
    }
}
