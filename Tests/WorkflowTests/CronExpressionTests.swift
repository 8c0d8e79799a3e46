import Foundation
import Testing
import Workflow

@Suite struct CronExpressionTests {
    /// 2026-11-23 10:49:00 UTC, a Monday.
    let monday = Date(timeIntervalSince1970: 1_795_430_940)

    func text(_ date: Date?) -> String {
        guard let date else { return "nil" }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    @Test(arguments: [
        ("* * * * *", "2026-11-23T10:50:00Z"),
        ("*/15 * * * *", "2026-11-23T11:00:00Z"),
        ("0 3 * * *", "2026-11-24T03:00:00Z"),
        ("0 3 * * 0", "2026-11-29T03:00:00Z"),
        ("0 3 * * 7", "2026-11-29T03:00:00Z"),
        ("30 8-18/2 * * 1-5", "2026-11-23T12:30:00Z"),
        ("0 0 1 * *", "2026-12-01T00:00:00Z"),
        ("0 0 29 2 *", "2028-02-29T00:00:00Z"),
        ("0 12 1 * 3", "2026-11-25T12:00:00Z"),
        ("5,10 11 * * *", "2026-11-23T11:05:00Z"),
    ])
    func nextFireTime(expression: String, expected: String) throws {
        #expect(text(try CronExpression(expression).next(after: monday)) == expected)
    }

    @Test(arguments: ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "a * * * *", "5-1 * * * *", "* * * 13 *"])
    func rejects(expression: String) {
        #expect(throws: CronError.self) { try CronExpression(expression) }
    }
}
