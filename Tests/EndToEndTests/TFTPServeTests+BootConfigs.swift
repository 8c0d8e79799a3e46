import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `provision serve` renders a machine's boot configs from the store: tftp-hpa fetches its
/// `pxelinux.cfg/01-<mac>`, the operator changes its boot target through the API, and the next fetch
/// gets the new config. No file is written; the transfers are events of that machine.
extension TFTPServeTests {
    @Test(.enabled(if: RealServices.isCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/tftp")))
    func bootConfigsFollowTheMachinesBootTarget() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (httpPort, tftpPort) = (try freeTCPPort(), try freeUDPPort())
        for target in ["local", "rescue"] {
            try FileManager.default.createDirectory(atPath: directory.file("boot/\(target)"), withIntermediateDirectories: true)
        }
        try directory.write("boot/local/pxelinux.cfg", "DEFAULT local # {{target}} {{mac}} {{machine.hostname}}\n")
        try directory.write("boot/rescue/pxelinux.cfg", "DEFAULT rescue # {{target}} {{mac}} {{machine.hostname}} {{server}}\n")
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http:
              listen: 127.0.0.1:\(httpPort)
              public-url: http://10.9.9.9:8080
            tftp:
              listen: 127.0.0.1:\(tftpPort)
              root: root
              boot-configs:
                templates: boot
              uploads:
                directory: incoming
                max-size: 1KiB
            """)
        let server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
        defer { if server.isRunning { server.signal(SIGKILL) } }
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.text.contains("tftp: listening"), server.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.text.contains("tftp: per-machine boot configs"), "\(server.text)")
        #expect(server.text.contains("tftp: accepting uploads"), "\(server.text)")
        let base = "http://127.0.0.1:\(httpPort)/api/v1"
        let enroll = try await request("\(base)/machines", method: "POST", body: #"{"mac": "52:54:00:ab:cd:01", "hostname": "node7", "address": "127.0.0.1"}"#)
        #expect(enroll.status == 201, "\(enroll.body)")

        func fetch() async throws -> String {
            let local = directory.file(UUID().uuidString)
            let result = try await ChildProcess.run("/usr/bin/tftp", ["-m", "binary", "127.0.0.1", "\(tftpPort)", "-c", "get", "pxelinux.cfg/01-52-54-00-ab-cd-01", local])
            #expect(result.status == 0, "\(result.output)")
            return (try? String(contentsOfFile: local, encoding: .utf8)) ?? "(nothing: \(result.output))"
        }
        #expect(try await fetch() == "DEFAULT local # local 52:54:00:ab:cd:01 node7\n")
        let changed = try await request("\(base)/machines/52:54:00:ab:cd:01/boot-target", method: "PUT", body: #"{"target": "rescue"}"#)
        #expect(changed.status == 200 && changed.body.contains(#""bootTarget":"rescue""#), "\(changed.body)")
        #expect(try await fetch() == "DEFAULT rescue # rescue 52:54:00:ab:cd:01 node7 http://10.9.9.9:8080\n")
        let bad = try await request("\(base)/machines/52:54:00:ab:cd:01/boot-target", method: "PUT", body: #"{"target": "../x"}"#)
        #expect(bad.status == 400)
        #expect(!FileManager.default.fileExists(atPath: directory.file("root/pxelinux.cfg")), "nothing is written")

        // Both transfers are events of the machine (found by the address it has).
        var events = ""
        for _ in 0..<300 {
            events = try await request("\(base)/views/event?type=tftp.transfer&machine=52:54:00:ab:cd:01", method: "GET").body
            if events.contains(#""total":2"#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(events.contains(#""total":2"#) && events.contains(#""machine":"52:54:00:ab:cd:01""#) && events.contains("01-52-54-00-ab-cd-01"), "\(events)")

        // Uploads land in the upload directory, within the size limit; curl sends tsize, so a larger one is refused up front.
        try directory.write("report", "hello from the machine\n")
        let put = try await ChildProcess.run("/usr/bin/curl", ["-sS", "-T", directory.file("report"), "tftp://127.0.0.1:\(tftpPort)/report"])
        #expect(put.status == 0, "\(put.output)")
        #expect(try String(contentsOfFile: directory.file("incoming/report"), encoding: .utf8) == "hello from the machine\n")
        try directory.write("large", String(repeating: "x", count: 1025))
        let large = try await ChildProcess.run("/usr/bin/curl", ["-sS", "-T", directory.file("large"), "tftp://127.0.0.1:\(tftpPort)/large"])
        #expect(large.status != 0)
        #expect(!FileManager.default.fileExists(atPath: directory.file("incoming/large")))

        server.signal(SIGTERM)
        #expect(await server.wait(timeout: .seconds(5)) == 0, "\(server.text)")
    }

    func request(_ url: String, method: String, body: String? = nil) async throws -> (status: Int, body: String) {
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
