public import Workflow

/// The actions specs may name in this appliance: the engine's core actions today; provisioning actions
/// (DHCP reservations, DNS records, images, boot targets, SMB, power) register here as they arrive.
public enum ApplianceActions {
    public static var registry: ActionRegistry { .core }
}
