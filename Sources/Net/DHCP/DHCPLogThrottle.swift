/// At most one log line per source per interval, with a bounded memory: a flood of garbage from
/// spoofed sources cannot flood the log or grow the table.
struct DHCPLogThrottle: Sendable {
    var interval: Duration = .seconds(60)
    var maxSources = 1024
    private var last: [String: ContinuousClock.Instant] = [:]

    mutating func allow(_ source: String, now: ContinuousClock.Instant) -> Bool {
        if let previous = last[source], now - previous < interval { return false }
        if last.count >= maxSources { last = last.filter { now - $0.value < interval } }
        guard last.count < maxSources else { return false }
        last[source] = now
        return true
    }
}
