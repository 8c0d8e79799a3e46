import Foundation
import OSIS
public import Workflow

/// `boot.set-target`: sets the run's machine's boot target, so the boot configs its firmware fetches
/// next (`pxelinux.cfg/01-<mac>`, `grub.cfg-<mac>`, `boot.ipxe`) come from that target's templates. An
/// install workflow sets `install` before it power-cycles the machine and `local` once the disk is
/// written. Idempotent: setting the target it already has changes nothing.
public struct BootTargetAction: WorkflowAction {
    public static let name = "boot.set-target"
    public static let arguments = [
        ArgumentSpec("target", .string, required: true, help: "the boot target (a folder under tftp.boot-configs.templates)")
    ]
    public static let isOrchestrating = true

    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        guard let objects = context.objects else { throw ActionError("boot.set-target runs only as an orchestrating action") }
        guard let mac = context.machine else { throw ActionError("boot.set-target needs a run for a machine") }
        guard let target = context.string("target"), MachinesController.isTargetName(target) else {
            throw ActionError("'\(context.string("target") ?? "")' is not a boot target name (letters, digits, '-', '_', '.')")
        }
        var previous: String?
        do {
            try await objects.modify(Machine.self, id: mac) { machine in
                previous = machine.bootTarget
                machine.bootTarget = target
                machine.updatedAt = context.now
            }
        } catch {
            throw ActionError("cannot set the boot target of \(mac): \(error)")
        }
        await context.log("boot target of \(mac): \(previous ?? "default") -> \(target)")
        return .succeeded(["target": .string(target), "previous": .string(previous ?? "")])
    }
}
