public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

extension ChildProcess {
    /// GETs `url` from this server, retrying while it starts (up to 30 s); records an issue and throws
    /// if it exits or never answers.
    public func get(_ url: String) async throws -> (status: Int, body: Data) {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            } catch {
                guard isRunning, ContinuousClock.now < deadline else {
                    Issue.record("server not answering \(url): \(error)\n\(text)")
                    throw error
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
