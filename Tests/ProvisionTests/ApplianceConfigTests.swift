import Net
import Provision
import StrictYAML
import Testing
import TestSupport

@Suite struct ApplianceConfigTests {
    @Test func theDocumentedDefaultLoadsAndHasNoNetwork() throws {
        let config = try ApplianceConfig.load(file: PackageRoot.path + "/appliance/appliance.yaml")
        #expect(config.networks.isEmpty)
        #expect(config.state.etcdEndpoints.isEmpty)
        #expect(config.http.listen == ListenAddress(host: "0.0.0.0", port: 8080))
    }

    @Test func theExampleWithANetworkLoads() throws {
        let config = try ApplianceConfig.load(file: PackageRoot.path + "/appliance/examples/lab.yaml")
        let network = try #require(config.networks.first)
        #expect(network.subnet == IPv4Subnet("10.20.0.0/24"))
        #expect(network.pool == IPv4Range("10.20.0.100-10.20.0.199"))
        #expect(network.leaseTime == .seconds(4 * 3600))
        #expect(network.boot.uefiX64 == "ipxe.efi")
        #expect(config.networks.map(\.mode) == [.pool, .proxy])
    }

    @Test func emptyConfigMeansDefaults() throws {
        let config = try ApplianceConfig.parse("# nothing\n", file: "a.yaml")
        #expect(config == ApplianceConfig())
    }

    @Test func rejectsUnknownKeyWithLineAndColumn() {
        #expect(problems("http:\n  listen: 0.0.0.0:80\n  lisen: x\n") == [
            "a.yaml:3:3: unknown key 'lisen': did you mean 'listen'? (allowed here: listen, public-url)"
        ])
    }

    @Test func rejectsWrongTypes() {
        #expect(problems("tftp:\n  enabled: maybe\n") == ["a.yaml:2:12: expected true or false, found 'maybe'"])
        #expect(problems("http: 8080\n") == ["a.yaml:1:7: expected a mapping, found '8080'"])
        #expect(problems("networks:\n  - name: lab\n    subnet: 10.0.0.0/24\n    lease-time: 3\n    pool: 10.0.0.5-10.0.0.9\n") == [
            "a.yaml:4:17: '3' is not a duration: expected e.g. 30s, 15m, 1h30m, 2d"
        ])
    }

    @Test func rejectsMissingRequiredValues() {
        #expect(problems("networks:\n  - name: lab\n") == ["a.yaml:2:5: missing required key 'subnet'"])
    }

    @Test func checksAddressesAgainstTheSubnet() {
        let yaml = """
            networks:
              - name: lab
                subnet: 10.0.0.0/24
                pool: 10.0.1.10-10.0.1.20
                router: 10.9.9.9
            """
        #expect(problems(yaml) == [
            "a.yaml:4:11: pool 10.0.1.10-10.0.1.20 is not inside subnet 10.0.0.0/24",
            "a.yaml:5:13: router 10.9.9.9 is not inside subnet 10.0.0.0/24",
        ])
    }

    @Test func reportsAllProblemsInDocumentOrder() {
        let yaml = "log-level: loud\nstate:\n  etcd: [ftp://x]\nbogus: 1\n"
        #expect(problems(yaml) == [
            "a.yaml:1:12: 'loud' is not one of: trace, debug, info, notice, warning, error, critical",
            "a.yaml:3:10: 'ftp://x' is not a URL (http://… or https://…)",
            "a.yaml:4:1: unknown key 'bogus' (allowed here: data-dir, dns, enrollment, http, images, log-level, networks, schedules, state, tftp, workflows)",
        ])
    }

    @Test func poolModeNeedsAPool() {
        #expect(problems("networks:\n  - name: lab\n    subnet: 10.0.0.0/24\n") == [
            "a.yaml:2:5: network 'lab' has mode pool but no 'pool' range"
        ])
    }
}
