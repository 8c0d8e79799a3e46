public import NIOCore

/// Token buckets per source address against floods of requests (a stuck ROM retrying in a loop, or
/// worse). A request over the limit is dropped without an answer, so a spoofed flood gets no amplifier.
public struct TFTPRateLimiter: Sendable {
    /// Requests one address may send at once.
    public let burst: Int
    /// Requests per second an address earns back.
    public let perSecond: Int
    /// Addresses tracked; beyond it the stalest are forgotten, so memory stays bounded under a spoofed flood.
    public let maxSources: Int

    struct Bucket: Sendable {
        var tokens: Double
        var updated: NIODeadline
    }

    private var buckets: [String: Bucket] = [:]

    public init(burst: Int = 128, perSecond: Int = 64, maxSources: Int = 4096) {
        self.burst = max(burst, 1)
        self.perSecond = max(perSecond, 1)
        self.maxSources = max(maxSources, 1)
    }

    /// Takes a token for `source` if it has one.
    public mutating func allow(_ source: String, now: NIODeadline) -> Bool {
        var bucket = buckets[source] ?? Bucket(tokens: Double(burst), updated: now)
        let seconds = Double((now - bucket.updated).nanoseconds) / 1e9
        bucket.tokens = min(Double(burst), bucket.tokens + max(seconds, 0) * Double(perSecond))
        bucket.updated = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        if buckets[source] == nil, buckets.count >= maxSources { evict(now: now) }
        buckets[source] = bucket
        return allowed
    }

    /// Forgets buckets that have refilled; if none has, the least recently used one.
    private mutating func evict(now: NIODeadline) {
        let refill = TimeAmount.nanoseconds(Int64(Double(burst) / Double(perSecond) * 1e9))
        buckets = buckets.filter { now - $0.value.updated < refill }
        if buckets.count >= maxSources, let stalest = buckets.min(by: { $0.value.updated < $1.value.updated }) {
            buckets.removeValue(forKey: stalest.key)
        }
    }

    public var trackedSources: Int { buckets.count }
}
