/// The appliance's version, shown by `provision version`, `/healthz` and the `provision_build_info` metric.
public enum ProvisionVersion {
    public static let string = "0.1.0"
}
