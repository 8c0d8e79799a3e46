import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `provision serve` is killed with SIGKILL while runs are under way, again and again; after the last
/// restart every run finishes, and every step's effect is there, in dependency order (at least once:
/// a step interrupted mid-attempt runs again).
@Suite(.timeLimit(.minutes(3))) struct WorkflowCrashTests {
    static let runs = 12
    static let kills = 6

    @Test func runsFinishAfterRepeatedSIGKILL() async throws {
        let directory = try TemporaryDirectory("wfcrash")
        defer { directory.remove() }
        let effects = directory.file("effects.log")
        try FileManager.default.createDirectory(atPath: directory.file("workflows"), withIntermediateDirectories: true)
        // Each step appends "<run> <step>" to the effects file; b and c run in parallel after a.
        func step(_ id: String, needs: [String]) -> String {
            """
              - id: \(id)
                action: command
                needs: [\(needs.joined(separator: ", "))]
                with: { run: [/bin/sh, -c, "sleep 0.2; echo ${run.id} \(id) >> \(effects)"] }
                retry: { attempts: 20, backoff: 100ms }

            """
        }
        try directory.write("workflows/chain.yaml", "workflow: chain\nsteps:\n" + step("a", needs: []) + step("b", needs: ["a"])
            + step("c", needs: ["a"]) + step("d", needs: ["b", "c"]) + step("e", needs: ["d"]))
        let port = try freeTCPPort()
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http: { listen: 127.0.0.1:\(port) }
            tftp: { enabled: false }
            workflows: workflows
            """)
        let base = "http://127.0.0.1:\(port)"

        var server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
        try await waitForHealth(base, server)
        var ids: [String] = []
        for _ in 0..<Self.runs {
            let (status, body) = try await request("POST", base + "/api/v1/runs", #"{"workflow": "chain"}"#)
            #expect(status == 201, "\(body)")
            let created = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            ids.append(try #require((created?["run"] as? [String: Any])?["id"] as? String))
        }
        for _ in 0..<Self.kills {
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...900)))
            server.signal(SIGKILL)
            _ = await server.wait(timeout: .seconds(10))
            server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
            try await waitForHealth(base, server)
        }
        defer { server.signal(SIGKILL) }

        // After the last restart, every run finishes.
        let deadline = ContinuousClock.now + .seconds(60)
        var unfinished = ids
        while !unfinished.isEmpty, ContinuousClock.now < deadline {
            var still: [String] = []
            for id in unfinished {
                let (_, body) = try await request("GET", base + "/api/v1/runs/\(id)", nil)
                let detail = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                let state = (detail?["run"] as? [String: Any])?["state"] as? String
                #expect(state != "failed", "run \(id) failed: \(body)")
                if state != "succeeded" { still.append(id) }
            }
            unfinished = still
            if !unfinished.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(unfinished.isEmpty, "unfinished runs: \(unfinished)\n\(server.text.suffix(2000))")

        // Every step's effect is present, and a step's first effect follows its needs' first effects.
        let lines = try String(contentsOfFile: effects, encoding: .utf8).split(separator: "\n").map(String.init)
        print("workflow crash test: \(lines.count) effects for \(ids.count * 5) steps (\(lines.count - Set(lines).count) repeated by at-least-once)")
        let needs = ["b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["d"]]
        for id in ids {
            let mine = lines.filter { $0.hasPrefix(id + " ") }.map { String($0.split(separator: " ")[1]) }
            #expect(Set(mine) == ["a", "b", "c", "d", "e"], "run \(id) effects: \(mine)")
            for (step, requirements) in needs {
                guard let at = mine.firstIndex(of: step) else { continue }
                for requirement in requirements {
                    #expect(mine.firstIndex(of: requirement).map { $0 < at } == true, "\(id): \(step) before \(requirement): \(mine)")
                }
            }
        }
    }

    func waitForHealth(_ base: String, _ server: ChildProcess) async throws {
        let (status, _) = try await server.get(base + "/healthz")
        #expect(status == 200, "server did not come up: \(server.text.suffix(2000))")
    }

    func request(_ method: String, _ url: String, _ body: String?) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
