// osis-bench: throughput and view lag of the OSIS KV backends, side by side with the raw SQLite insert
// rate (one fsync per commit) measured on the same machine in the same run.
//
//   swift run -c release osis-bench [--seconds N] [--dir PATH] [--etcd http://127.0.0.1:2379,...]
//   (scripts/services.sh start etcd, then --etcd "$PROVISION_TEST_ETCD_ENDPOINTS")
//
// Prints a Markdown table for docs/PERFORMANCE.md. Ratios matter, not absolute numbers: the machines
// are shared and noisy.
import CSQLite
import Foundation
import OSIS
import Synchronization

struct Options {
    var seconds = 5.0
    var directory = NSTemporaryDirectory() + "/osis-bench-\(getpid())"
    /// etcd client URLs: when given, the same workloads run against EtcdKV too (views in SQLite).
    var etcd: [String] = []

    static let usage = """
        usage: osis-bench [--seconds N] [--dir PATH] [--etcd URL,...]
          --seconds N   how long each workload runs (default 5)
          --dir PATH    where the SQLite files go (default a new folder under the temporary directory;
                        a tmpfs such as /dev/shm shows the CPU ceiling, fsync being free there)
          --etcd URLS   also run the workloads against this etcd (client URLs, comma-separated)
        """

    init() {
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() {
            switch flag {
            case "--seconds":
                guard let value = arguments.popFirst().flatMap(Double.init), value > 0 else { Self.fail("--seconds takes a positive number") }
                seconds = value
            case "--dir":
                guard let value = arguments.popFirst() else { Self.fail("--dir takes a path") }
                directory = value
            case "--etcd":
                guard let value = arguments.popFirst() else { Self.fail("--etcd takes client URLs") }
                etcd = value.split(separator: ",").map(String.init)
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default:
                Self.fail("unknown option \(flag)")
            }
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("osis-bench: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
}

struct Row {
    var backend: String
    var workload: String
    var writers: Int
    var perSecond: Double
    /// Process CPU time per operation, all threads: steadier than ops/s on a machine others load too.
    var cpuMicroseconds: Double = 0
    var note = ""
}

/// User plus system CPU time of this process so far, in microseconds.
func processCPUMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func µs(_ t: timeval) -> Double { Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
    return µs(usage.ru_utime) + µs(usage.ru_stime)
}

let options = Options()
try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: options.directory) }
let value = Data(repeating: 0x61, count: 200)
var rows: [Row] = []

/// Inserts rows one autocommit transaction (one fsync) at a time: the reference a naive store would get.
func rawSQLiteInsertsPerSecond(seconds: Double) throws -> Double {
    let connection = try SQLiteConnection(path: options.directory + "/raw.sqlite")
    try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")
    let end = Date().addingTimeInterval(seconds)
    var count = 0
    while Date() < end {
        try connection.query("INSERT INTO t VALUES (?, ?)", [.text("k\(count)"), .blob(value)])
        count += 1
    }
    return Double(count) / seconds
}

final class Tally: Sendable {
    let count = Atomic<Int>(0)
}

final class Samples: Sendable {
    let durations = Mutex<[Duration]>([])

    /// How many samples there are, and "p50 …, p99 …, max …" with `format` for each (nil without samples).
    func percentiles(_ format: (Duration) -> String) -> (count: Int, text: String?) {
        let sorted = durations.withLock { $0.sorted() }
        guard let last = sorted.last else { return (0, nil) }
        return (sorted.count, "p50 \(format(sorted[sorted.count / 2])), p99 \(format(sorted[sorted.count * 99 / 100])), max \(format(last))")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var inMicroseconds: String { String(format: "%.0f µs", seconds * 1e6) }
    var inMilliseconds: String { String(format: "%.1f ms", seconds * 1e3) }
}

/// Stands in for the rest of the appliance while a workload runs: a thread of its own, as a SwiftNIO
/// event loop is, hands a timestamp to a task every millisecond, and the task records how long the
/// hand-over took. That is the wait a request's handler sees when the store keeps the task pool busy.
final class NeighbourProbe: Sendable {
    private let samples = Samples()
    private let stopped = Atomic<Bool>(false)
    private let consumer: Task<Void, Never>

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
        let samples = samples
        consumer = Task {
            for await sent in stream { samples.durations.withLock { $0.append(.now - sent) } }
        }
        Thread.detachNewThread { [self] in
            while !stopped.load(ordering: .relaxed) {
                continuation.yield(.now)
                usleep(1000)
            }
            continuation.finish()
        }
    }

    /// Stops the probe; returns "neighbour hop p50 …, p99 …, max …".
    func stop() async -> String {
        stopped.store(true, ordering: .relaxed)
        await consumer.value
        return samples.percentiles(\.inMicroseconds).text.map { "neighbour hop \($0)" } ?? "no neighbour hops"
    }
}

struct Measurement {
    var perSecond: Double
    var cpuMicroseconds: Double
}

/// Runs `writers` tasks calling `operation` until time is up; returns operations per second and the
/// CPU time each took.
nonisolated func measure(writers: Int, seconds: Double, _ operation: @escaping @Sendable (_ writer: Int, _ seq: Int) async throws -> Void) async throws -> Measurement {
    let done = Tally()
    let cpuBefore = processCPUMicroseconds()
    let deadline = ContinuousClock.now + .seconds(seconds)
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                var seq = 0
                while ContinuousClock.now < deadline {
                    try await operation(writer, seq)
                    seq += 1
                    done.count.add(1, ordering: .relaxed)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - started
    let count = Double(done.count.load(ordering: .relaxed))
    return Measurement(
        perSecond: count / elapsed.seconds,
        cpuMicroseconds: (processCPUMicroseconds() - cpuBefore) / max(count, 1))
}

/// Puts and CAS at 1 and 64 writers, then view lag under 64 writers.
nonisolated func benchmark(_ name: String, store: some KVStore, views: (any ViewStore)?) async throws -> [Row] {
    var rows: [Row] = []
    // A copy of the main-actor global: reading the global from the writers would hop to the main
    // actor on every operation and measure that instead of the store.
    let value = value
    for writers in [1, 64] {
        let before = (store as? SQLiteKV)?.groupCommits
        let neighbour = NeighbourProbe()
        let puts = try await measure(writers: writers, seconds: options.seconds) { writer, seq in
            try await store.put("/bench/put/\(writers)/\(writer)/\(seq)", value)
        }
        var notes = [await neighbour.stop()]
        if let before, let after = (store as? SQLiteKV)?.groupCommits, after.commits > before.commits {
            notes.insert(String(format: "%.1f writes per commit", Double(after.writes - before.writes) / Double(after.commits - before.commits)), at: 0)
        }
        rows.append(Row(
            backend: name, workload: "put (200 B)", writers: writers, perSecond: puts.perSecond, cpuMicroseconds: puts.cpuMicroseconds,
            note: notes.joined(separator: "; ")))
        let cas = try await measure(writers: writers, seconds: options.seconds) { writer, seq in
            let key = "/bench/cas/\(writers)/\(writer)"
            let current = try await store.get(key)?.modRevision ?? 0
            guard try await store.compareAndSet(key, value, ifModRevision: current) != nil else {
                throw KVError.invalid("CAS on a key only this writer touches failed")
            }
        }
        rows.append(Row(backend: name, workload: "read + CAS", writers: writers, perSecond: cas.perSecond, cpuMicroseconds: cas.cpuMicroseconds))
    }
    guard let views else { return rows }
    let definition = ViewDefinition(kind: "benchitem", columns: [ViewColumn("writer", .integer)])
    let projector = ViewProjector(kv: store, views: views, definitions: [definition])
    try await projector.prepare()
    _ = try await projector.reindex()
    let follower = Task { try await projector.run() }
    let lags = Samples()
    let probe = Data("benchitem 1\n{\"writer\":1}".utf8)
    // A sampler writes one object every 10 ms while 64 writers load the store, and records how long
    // after its acknowledgement the views reflect it.
    let sampler = Task {
        var seq = 0
        while !Task.isCancelled {
            let revision = try await store.put(ObjectStore.key(kind: "benchitem", id: "sample-\(seq)"), probe)
            let acked = ContinuousClock.now
            while try await views.appliedRevision() < revision { try await Task.sleep(for: .microseconds(100)) }
            lags.durations.withLock { $0.append(ContinuousClock.now - acked) }
            seq += 1
            try await Task.sleep(for: .milliseconds(10))
        }
    }
    let objectPuts = try await measure(writers: 64, seconds: options.seconds) { writer, seq in
        try await store.put(ObjectStore.key(kind: "benchitem", id: "\(writer)-\(seq)"), probe)
    }
    sampler.cancel()
    follower.cancel()
    let lag = lags.percentiles(\.inMilliseconds)
    rows.append(Row(
        backend: name, workload: "object put, views following", writers: 64, perSecond: objectPuts.perSecond,
        cpuMicroseconds: objectPuts.cpuMicroseconds,
        note: "view lag \(lag.text ?? "p50 -, p99 -, max -") (\(lag.count) samples)"))
    return rows
}

let rawCPUBefore = processCPUMicroseconds()
let raw = try rawSQLiteInsertsPerSecond(seconds: options.seconds)
rows.append(Row(
    backend: "raw SQLite", workload: "insert, 1 fsync/commit", writers: 1, perSecond: raw,
    cpuMicroseconds: (processCPUMicroseconds() - rawCPUBefore) / (raw * options.seconds)))
let sqlitePath = options.directory + "/osis.sqlite"
let sqlite = try SQLiteKV(path: sqlitePath)
rows += try await benchmark("OSIS SQLite", store: sqlite, views: try SQLiteViewStore(sharingFileOf: sqlite))
await sqlite.close()
if !options.etcd.isEmpty {
    let etcd = try EtcdKV(endpoints: options.etcd)
    // Each run writes under fresh keys: clear what an earlier run left.
    _ = try await etcd.transaction(KVTransaction(then: [.deletePrefix("/bench/"), .deletePrefix(ObjectStore.key(kind: "benchitem", id: ""))]))
    rows += try await benchmark("OSIS etcd", store: etcd, views: try SQLiteViewStore(path: options.directory + "/etcd-views.sqlite"))
    await etcd.close()
}

print("| backend | workload | writers | ops/s | vs raw SQLite | CPU µs/op | notes |")
print("|---|---|---:|---:|---:|---:|---|")
for row in rows {
    let cpu = String(format: "%.0f", row.cpuMicroseconds)
    print("| \(row.backend) | \(row.workload) | \(row.writers) | \(Int(row.perSecond)) | \(String(format: "%.1fx", row.perSecond / raw)) | \(cpu) | \(row.note) |")
}
