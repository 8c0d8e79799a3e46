import Foundation
public import Logging
import OSIS
public import ServiceLifecycle
public import Workflow

/// Starts the workflows of `schedules:` at their cron times (UTC). A schedule missed while the
/// appliance was down is not caught up, as with cron.
public struct ScheduleService: Service, CustomStringConvertible {
    let schedules: [ScheduleConfig]
    let engine: WorkflowEngine
    let clock: any WorkflowClock
    let logger: Logger

    public init(schedules: [ScheduleConfig], engine: WorkflowEngine, clock: any WorkflowClock = SystemWorkflowClock(), logger: Logger) {
        self.schedules = schedules
        self.engine = engine
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            var after = clock.now()
            while !Task.isCancelled {
                let upcoming = schedules.compactMap { schedule in schedule.cron.next(after: after).map { (schedule, $0) } }
                guard let soonest = upcoming.map(\.1).min() else { return }
                try await clock.sleep(until: soonest)
                for (schedule, date) in upcoming where date == soonest { await fire(schedule) }
                after = soonest
            }
        }
    }

    /// Starts the schedule's runs: one per machine in the named state, or one with no machine.
    func fire(_ schedule: ScheduleConfig) async {
        do {
            var machines: [String?] = [nil]
            if let state = schedule.machines {
                machines = try await engine.objects.all(Machine.self).filter { $0.object.state == state }.map { $0.object.mac }
            }
            for machine in machines {
                let run = try await engine.start(workflow: schedule.workflow, machine: machine, parameters: schedule.parameters)
                logger.info("schedule '\(schedule.name)': started \(schedule.workflow)", metadata: ["run": "\(run.id)", "machine": "\(machine ?? "-")"])
            }
        } catch {
            logger.error("schedule '\(schedule.name)': cannot start \(schedule.workflow): \(error)")
        }
    }
}

extension ScheduleService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "ScheduleService" }
}
