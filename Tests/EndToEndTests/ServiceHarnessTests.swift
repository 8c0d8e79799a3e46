import Foundation
import Testing
import TestSupport

/// The real services `scripts/services.sh` starts answer at the addresses it exports. Under `CI=true` a
/// missing service is a failure, not a skip.
@Suite(.timeLimit(.minutes(3))) struct ServiceHarnessTests {
    @Test func postgresAnswers() async throws {
        try await RealServices.with("PROVISION_TEST_POSTGRES_URL", service: "postgres") { url in
            let result = try await ChildProcess.run("/usr/bin/psql", [url, "-tAc", "select 40 + 2"])
            #expect(result.status == 0 && result.output.contains("42"), "\(result.output)")
        }
    }

    @Test func etcdAnswersOnItsJSONGateway() async throws {
        try await RealServices.with("PROVISION_TEST_ETCD_ENDPOINTS", service: "etcd") { endpoints in
            let first = String(endpoints.split(separator: ",")[0])
            let result = try await ChildProcess.run("/usr/bin/curl", ["-sf", "-X", "POST", first + "/v3/maintenance/status", "-d", "{}"])
            #expect(result.status == 0 && result.output.contains("\"version\""), "\(result.output)")
        }
    }

    @Test func sambaServesTheShare() async throws {
        try await RealServices.with("PROVISION_TEST_SMB_URL", service: "samba") { url in
            // smb://127.0.0.1:PORT/share → //127.0.0.1/share -p PORT
            let parts = url.dropFirst("smb://".count).split(separator: "/")
            let hostPort = parts[0].split(separator: ":")
            let user = RealServices.value("PROVISION_TEST_SMB_USER") ?? ""
            let password = RealServices.value("PROVISION_TEST_SMB_PASSWORD") ?? ""
            let result = try await ChildProcess.run(
                "/usr/bin/smbclient", ["//\(hostPort[0])/\(parts[1])", "-p", String(hostPort[1]), "-U", "\(user)%\(password)", "-c", "ls"])
            #expect(result.status == 0, "\(result.output)")
        }
    }
}
