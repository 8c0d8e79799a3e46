import Foundation

/// Addresses of the real services `scripts/services.sh` started for the tests (PostgreSQL, etcd, Samba).
///
/// They come from the environment, or from the env file the script writes (`.services/env`), so a plain
/// `swift test` after `scripts/services.sh start all` finds them too. A test that needs a missing service
/// fails under `CI=true` and is skipped otherwise, with the command that would start it.
public enum RealServices {
    public static func value(_ name: String) -> String? {
        if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        return envFile[name]
    }

    /// True when tests must not skip for lack of a service.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Why a test that needs `name` cannot run, or nil when it can. Under CI the reason is a failure.
    public static func missing(_ name: String, service: String) -> String? {
        value(name) == nil ? "\(name) is not set: run `scripts/services.sh start \(service)` first" : nil
    }

    /// The value of `name`, or nil after recording why the test cannot run: an issue under CI (the
    /// harness should have started the service), a skip-like early return elsewhere.
    public static func require(_ name: String, service: String) throws -> String? {
        guard let why = missing(name, service: service) else { return value(name) }
        if isCI { throw MissingService(description: why) }
        print("skipping: \(why)")
        return nil
    }

    public struct MissingService: Error, CustomStringConvertible {
        public var description: String
    }

    private static let envFile: [String: String] = {
        let directory = ProcessInfo.processInfo.environment["PROVISION_SERVICES_DIR"]
            ?? PackageRoot.path + "/.services"
        guard let text = try? String(contentsOfFile: directory + "/env", encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let assignment = line.hasPrefix("export ") ? line.dropFirst("export ".count) : line[...]
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        return values
    }()
}

/// The package's root directory, found from this source file's location.
public enum PackageRoot {
    public static let path: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/Support/RealServices.swift
        return url.path
    }()
}
