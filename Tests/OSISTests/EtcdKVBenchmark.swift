import Foundation
import OSIS
import Testing
import TestSupport

/// Puts and gets per second through `EtcdKV`, for docs/PERFORMANCE.md. Opt-in, since it measures rather
/// than checks: `PROVISION_ETCD_BENCH=1 swift test --filter EtcdKVBenchmark`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PROVISION_ETCD_BENCH"] != nil))
struct EtcdKVBenchmark {
    @Test(arguments: [(1, 8), (64, 8), (64, 16), (64, 32), (64, 64)])
    func putsAndGetsPerSecond(writers: Int, connections: Int) async throws {
        try await RealServices.with("PROVISION_TEST_ETCD_ENDPOINTS", service: "etcd") { endpoints in
            let store = try EtcdKV(
                endpoints: endpoints.split(separator: ",").map(String.init), connectionsPerEndpoint: connections)
            let prefix = "/bench/swift-\(UUID().uuidString)"
            let value = Data(repeating: UInt8(ascii: "v"), count: 64)
            let perWriter = max(1, 3000 / writers)
            for operation in ["put", "get"] {
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            for i in 0..<perWriter {
                                let key = "\(prefix)/\(writer)/\(i)"
                                if operation == "put" { try await store.put(key, value) } else { _ = try await store.get(key) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                let rate = Int(Double(writers * perWriter) / seconds)
                print("EtcdKV \(operation) writers=\(writers) connections=\(connections): \(rate) ops/s")
            }
            _ = try await store.transaction(KVTransaction(then: [.deletePrefix(prefix + "/")]))
            await store.close()
        }
    }
}
