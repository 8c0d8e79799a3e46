import Foundation
public import Logging
public import OSIS
public import Workflow

/// Where machines enter the inventory: enrolled through the API, or discovered by a responder the
/// first time they ask for something. A new machine is recorded, announced with a `machine.discovered`
/// event, and handed the workflow of the first enrollment rule it matches.
public struct MachineRegistry: Sendable {
    public let objects: ObjectStore
    public let engine: WorkflowEngine
    public let rules: [EnrollmentRule]
    let logger: Logger

    public init(objects: ObjectStore, engine: WorkflowEngine, rules: [EnrollmentRule], logger: Logger) {
        self.objects = objects
        self.engine = engine
        self.rules = rules
        self.logger = logger
    }

    public struct Discovery: Sendable {
        public var machine: Machine
        /// True when this call created the machine.
        public var isNew: Bool
        /// The run an enrollment rule started, if any.
        public var run: Run?
    }

    /// Records `machine` if its MAC is unknown (and starts the matching rule's workflow); otherwise
    /// returns the machine already known, unchanged.
    public func discovered(_ machine: Machine) async throws -> Discovery {
        var machine = machine
        machine.mac = machine.mac.lowercased()
        guard Self.isMAC(machine.mac) else { throw RegistryError.badMAC(machine.mac) }
        if let existing = try await objects.get(Machine.self, id: machine.mac) {
            return Discovery(machine: existing.object, isNew: false, run: nil)
        }
        machine.state = .discovered
        let created: Stored<Machine>? = try await createUnlessRaced(machine)
        guard var stored = created else {
            // Another request enrolled it a moment ago: theirs wins.
            let existing = try await objects.get(Machine.self, id: machine.mac)
            return Discovery(machine: existing?.object ?? machine, isNew: false, run: nil)
        }
        guard let rule = rules.first(where: { $0.matches(machine) }) else { return Discovery(machine: machine, isNew: true, run: nil) }
        let run = try await engine.start(workflow: rule.workflow, machine: machine.mac, parameters: rule.parameters)
        stored.object.state = .provisioning
        stored.object.workflow = run.id
        stored.object.updatedAt = Date()
        let updated = (try? await objects.update(stored))?.object ?? stored.object
        logger.info("enrollment: rule '\(rule.name)' started \(rule.workflow) for \(machine.mac)", metadata: ["run": "\(run.id)"])
        return Discovery(machine: updated, isNew: true, run: run)
    }

    /// The created machine, or nil when it already exists. Its `machine.discovered` event is written in
    /// the same commit: one commit for both, and never a machine without its event.
    private func createUnlessRaced(_ machine: Machine) async throws -> Stored<Machine>? {
        do {
            let event = Event(type: "machine.discovered", machine: machine.mac, time: Date(), message: "new machine \(machine.mac)")
            let revision = try await engine.publish(event, alongside: [try ObjectWrite.create(machine)])
            return Stored(object: machine, revision: revision, createRevision: revision)
        } catch {
            if case .conflict = error { return nil }
            throw error
        }
    }

    /// `aa:bb:cc:dd:ee:ff`, lower-case hex.
    static func isMAC(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }
}

public enum RegistryError: Error, CustomStringConvertible {
    case badMAC(String)

    public var description: String {
        switch self {
        case .badMAC(let mac): return "'\(mac)' is not a MAC address (aa:bb:cc:dd:ee:ff)"
        }
    }
}
