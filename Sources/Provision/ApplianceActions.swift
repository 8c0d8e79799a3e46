public import Workflow

/// The actions specs may name in this appliance: the engine's core actions and `boot.set-target`; the
/// other provisioning actions (DHCP reservations, DNS records, images, SMB, power) register here as they
/// arrive.
public enum ApplianceActions {
    public static var registry: ActionRegistry {
        var registry = ActionRegistry.core
        registry.register(BootTargetAction())
        return registry
    }
}
