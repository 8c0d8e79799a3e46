// workflow-bench: many concurrent runs of a 6-step workflow with instant actions on the embedded store.
//
//   swift run -c release workflow-bench [--runs 10000] [--workers 64]
//
// Reports wall time, job transitions per second and memory per run. Every transition is committed to
// the SQLite store before it takes effect, exactly as in `provision serve`.
import Foundation
import OSIS
import Workflow

/// Succeeds at once: the benchmark measures the engine and the store, not the actions.
struct InstantAction: WorkflowAction {
    static let name = "instant"
    static let arguments: [ArgumentSpec] = []
    func run(_ context: StepContext) async throws -> StepOutcome { .succeeded([:]) }
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
}

var runs = 10_000
var workers = 64
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--workers": workers = Int(arguments.popFirst() ?? "") ?? workers
    default: fatalError("unknown option \(flag)")
    }
}

let directory = NSTemporaryDirectory() + "/workflow-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
let kv = try SQLiteKV(path: directory + "/state.sqlite")
// a → (b, c) → d → (e, f): parallel branches as well as a chain.
let spec = WorkflowSpec(name: "six", steps: [
    StepSpec(id: "a", action: "instant"),
    StepSpec(id: "b", action: "instant", needs: ["a"]),
    StepSpec(id: "c", action: "instant", needs: ["a"]),
    StepSpec(id: "d", action: "instant", needs: ["b", "c"]),
    StepSpec(id: "e", action: "instant", needs: ["d"]),
    StepSpec(id: "f", action: "instant", needs: ["d"]),
])
var actions = ActionRegistry.core
actions.register(InstantAction())
let engine = WorkflowEngine(objects: ObjectStore(kv: kv), catalog: WorkflowCatalog([spec]), actions: actions, workers: workers)

let memoryBefore = residentMegabytes()
let revisionBefore = try await kv.currentRevision()
let started = ContinuousClock.now
/// Off the main actor: child tasks started from top-level code would otherwise hop to it for every run.
nonisolated func startAndWait(runs: Int, engine: WorkflowEngine) async throws -> [JobState: Int] {
    try await withThrowingTaskGroup(of: JobState.self) { group in
        for _ in 0..<runs {
            group.addTask {
                let run = try await engine.start(workflow: "six")
                return try await engine.waitUntilFinished(run.id).state
            }
        }
        var states: [JobState: Int] = [:]
        for try await state in group { states[state, default: 0] += 1 }
        return states
    }
}
let states = try await startAndWait(runs: runs, engine: engine)
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let commits = try await kv.currentRevision() - revisionBefore
// Each job goes pending → ready → running → succeeded; each run is created and then finishes.
let transitions = runs * (6 * 3 + 2)
let peakMemory = residentMegabytes()
print("| runs | steps | workers | wall time | job transitions/s | store commits | memory/run | outcome |")
print("|---:|---:|---:|---:|---:|---:|---:|---|")
print(
    "| \(runs) | 6 | \(workers) | \(String(format: "%.1f s", seconds)) | \(Int(Double(transitions) / seconds)) | \(commits) "
        + "| \(String(format: "%.1f KiB", (peakMemory - memoryBefore) * 1024 / Double(runs))) | \(states.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")) |")
await kv.close()
