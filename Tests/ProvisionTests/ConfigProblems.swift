import Provision
import StrictYAML

/// What parsing `yaml` as an appliance config reports, one `FILE:LINE:COLUMN: …` line per problem;
/// empty when it loads. The config suites check their mistakes through it.
func problems(_ yaml: String) -> [String] {
    do {
        _ = try ApplianceConfig.parse(yaml, file: "a.yaml")
        return []
    } catch {
        return error.items.map(\.description)
    }
}
