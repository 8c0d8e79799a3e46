import Foundation
import Logging
import OSIS
import Provision
import StrictYAML
import Testing
import TestSupport
import Workflow

/// Enrollment rules and schedules: machines and the clock start workflows without an operator.
@Suite(.timeLimit(.minutes(3))) struct AutomationTests {
    static let spec = WorkflowSpec(name: "hello", steps: [StepSpec(id: "hi", action: "log", arguments: ["message": .string("hi ${machine.mac}")])])

    func withEngine(_ body: (WorkflowEngine, ManualClock) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("automation")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let clock = ManualClock()
        let engine = WorkflowEngine(objects: ObjectStore(kv: kv), catalog: WorkflowCatalog([Self.spec]), clock: clock)
        try await body(engine, clock)
        engine.shutdown()
        await kv.close()
    }

    @Test func configReadsSchedulesAndRules() throws {
        let config = try ApplianceConfig.parse("""
            schedules:
              - { name: nightly, workflow: hello, cron: "0 3 * * *", machines: provisioned, parameters: { a: "1" } }
            enrollment:
              - name: vms
                match: { mac-prefix: "52:54:00", architecture: uefi-x64, facts: { vendor: QEMU } }
                workflow: hello
            """, file: "a.yaml")
        #expect(config.schedules.first?.cron.text == "0 3 * * *")
        #expect(config.schedules.first?.machines == .provisioned)
        #expect(config.enrollment.first?.facts == ["vendor": "QEMU"])
    }

    @Test func badSchedulesAreRejectedWithTheirPosition() {
        #expect(throws: Diagnostics.self) { try ApplianceConfig.parse("schedules:\n  - { name: x, workflow: hello, cron: \"61 * * * *\" }\n", file: "a.yaml") }
        do {
            _ = try ApplianceConfig.parse("schedules:\n  - { name: x, workflow: hello, cron: \"61 * * * *\" }\n", file: "a.yaml")
        } catch {
            #expect(error.items.map(\.description) == ["a.yaml:2:39: minute '61' is outside 0-59"])
        }
    }

    @Test func aDiscoveredMachineMatchingARuleGetsItsWorkflow() async throws {
        try await withEngine { engine, _ in
            let rule = EnrollmentRule(
                name: "vms", macPrefix: "52:54:00", architecture: nil, facts: ["vendor": "QEMU"], workflow: "hello", parameters: [:],
                location: SourceLocation(file: "a.yaml", line: 1, column: 1))
            let registry = MachineRegistry(objects: engine.objects, engine: engine, rules: [rule], logger: Logger(label: "t"))
            let vm = try await registry.discovered(Machine(mac: "52:54:00:AA:00:01", facts: ["vendor": "QEMU"]))
            #expect(vm.isNew && vm.machine.state == .provisioning)
            let run = try #require(vm.run)
            #expect(try await engine.waitUntilFinished(run.id).state == .succeeded)
            let other = try await registry.discovered(Machine(mac: "00:11:22:33:44:55", facts: ["vendor": "Dell"]))
            #expect(other.isNew && other.run == nil && other.machine.state == .discovered)
            let again = try await registry.discovered(Machine(mac: "52:54:00:aa:00:01"))
            #expect(!again.isNew && again.run == nil)
            await #expect(throws: RegistryError.self) { try await registry.discovered(Machine(mac: "not-a-mac")) }
        }
    }

    @Test func schedulesStartRunsAtTheirTimes() async throws {
        try await withEngine { engine, clock in
            try await engine.objects.put(Machine(mac: "52:54:00:00:00:01", state: .provisioned))
            try await engine.objects.put(Machine(mac: "52:54:00:00:00:02", state: .provisioned))
            try await engine.objects.put(Machine(mac: "52:54:00:00:00:03", state: .discovered))
            let schedule = ScheduleConfig(
                name: "every-10", workflow: "hello", cron: try CronExpression("*/10 * * * *"), machines: .provisioned, parameters: [:],
                location: SourceLocation(file: "a.yaml", line: 1, column: 1))
            let service = ScheduleService(schedules: [schedule], engine: engine, clock: clock, logger: Logger(label: "t"))
            let task = Task { try await service.run() }
            defer { task.cancel() }
            // Nothing before the first tick.
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await engine.objects.all(Run.self).isEmpty)
            clock.advance(by: 600)
            for _ in 0..<500 where try await engine.objects.all(Run.self).count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            let runs = try await engine.objects.all(Run.self).map(\.object)
            #expect(Set(runs.compactMap(\.machine)) == ["52:54:00:00:00:01", "52:54:00:00:00:02"])
        }
    }
}
