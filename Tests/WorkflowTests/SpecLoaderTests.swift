import Foundation
import StrictYAML
import Testing
import TestSupport
import Workflow

@Suite struct SpecLoaderTests {
    static let fixtures = PackageRoot.path + "/Tests/WorkflowTests/Fixtures/"

    func problems(_ file: String) -> [String] {
        let log = DiagnosticLog()
        _ = SpecLoader(log: log).loadAndValidate(files: [Self.fixtures + file], actions: .core)
        return log.items
            .sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
            .map { $0.description.replacingOccurrences(of: Self.fixtures, with: "") }
    }

    @Test func aValidSpecWithEveryFeatureLoads() throws {
        let log = DiagnosticLog()
        let specs = SpecLoader(log: log).loadAndValidate(files: [Self.fixtures + "install.yaml"], actions: .core)
        #expect(log.items.isEmpty, "\(log.items)")
        let spec = try #require(specs.first)
        #expect(spec.name == "install" && spec.version == 2 && spec.timeout == .seconds(7200))
        #expect(spec.steps.map(\.id) == ["announce", "booted", "wipe", "done", "cleanup"])
        #expect(spec.parameters.map(\.name) == ["image", "wipe", "hostname"])
        #expect(spec.parameters[2].isRequired && !spec.parameters[0].isRequired)
        let wipe = try #require(spec.step("wipe"))
        #expect(wipe.retry == RetryPolicy(attempts: 3, backoff: .seconds(5), factor: 2, maxBackoff: .seconds(60)))
        #expect(wipe.onFailure == .compensate(["cleanup"]))
        #expect(wipe.condition?.text == "${params.wipe} == true")
        #expect(spec.step("booted")?.location.file.hasSuffix("groups/wait.yaml") == true)
        #expect(spec.compensationSteps == ["cleanup"])
    }

    @Test func reportsEveryProblemWithFileLineColumn() {
        #expect(problems("broken.yaml") == [
            "broken.yaml:3:31: expected an integer, found 'big'",
            "broken.yaml:5:5: step 'a': action 'log' needs argument 'message' (string)",
            "broken.yaml:5:5: steps form a cycle: a → c → b → a",
            "broken.yaml:7:21: step 'a': action 'log' has no argument 'mesage' (arguments: message)",
            "broken.yaml:9:5: step 'b': unknown action 'reboot' (known: command, fail, log, sleep, wait-event, workflow)",
            "broken.yaml:12:5: step 'c': '${params.missing}' is not a declared parameter",
            "broken.yaml:16:5: step 'd': '${steps.e.outputs.x}' is not available: 'e' must be in its needs (directly or indirectly)",
            "broken.yaml:22:14: 'soon' is not a duration: expected e.g. 30s, 15m, 1h30m, 2d",
            "broken.yaml:23:5: step id 'a' is used twice",
            "broken.yaml:23:5: step 'a' can never run: its condition 'false' is always false",
            "broken.yaml:29:22: step 'f': '${nonsense}' is not a reference: use params.NAME, machine.FIELD, steps.ID.outputs.KEY or run.id",
        ])
    }

    @Test func includeCyclesAreReported() {
        #expect(problems("cycle-include.yaml") == [
            "cycle-include.yaml:3:14: 'cycle-include.yaml' is already included: includes form a cycle"
        ])
    }

    @Test func unknownKeysInStepsAreReported() throws {
        let directory = try TemporaryDirectory("spec")
        defer { directory.remove() }
        let file = try directory.write("s.yaml", "workflow: s\nsteps:\n  - id: a\n    action: log\n    with: { message: x }\n    retries: 3\n")
        let log = DiagnosticLog()
        _ = SpecLoader(log: log).loadAndValidate(files: [file], actions: .core)
        #expect(log.items.map(\.description) == [
            "\(file):6:5: unknown key 'retries' (allowed here: action, id, include, needs, on-failure, retry, timeout, when, with)"
        ])
    }

    @Test func compensationOnlyStepsCannotBeNeededByNormalSteps() {
        let spec = WorkflowSpec(name: "c", steps: [
            StepSpec(id: "a", action: "fail", onFailure: .compensate(["undo"])),
            StepSpec(id: "undo", action: "log", arguments: ["message": .string("undo")]),
            StepSpec(id: "after", action: "log", arguments: ["message": .string("x")], needs: ["undo"]),
        ])
        let log = DiagnosticLog()
        SpecValidator(actions: .core, log: log).validate(spec)
        #expect(log.items.map(\.message) == ["step 'after' is unreachable: it needs 'undo', which only runs as compensation"])
    }
}

/// The example specs shipped with the appliance validate clean.
@Suite struct ExampleSpecTests {
    @Test func theShippedWorkflowsValidate() throws {
        let directory = PackageRoot.path + "/appliance/workflows"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.map { directory + "/" + $0 }
        #expect(files.count >= 2)
        let log = DiagnosticLog()
        let specs = SpecLoader(log: log).loadAndValidate(files: files, actions: .core)
        #expect(log.items.map(\.description) == [])
        #expect(specs.count == files.count)
    }
}
