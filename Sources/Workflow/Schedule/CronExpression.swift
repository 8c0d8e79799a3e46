public import Foundation

/// A cron schedule in the classic five fields, minute hour day-of-month month day-of-week, in UTC:
/// `*`, numbers, ranges `1-5`, lists `1,15`, and steps `*/10` or `8-18/2`. Day-of-week 0 and 7 are
/// Sunday. As in cron, when both day fields are restricted a day matches if either does.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public init(_ text: String) throws(CronError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw .fieldCount(fields.count) }
        self.text = text
        minutes = try Self.parse(fields[0], "minute", 0...59)
        hours = try Self.parse(fields[1], "hour", 0...23)
        daysOfMonth = try Self.parse(fields[2], "day of month", 1...31)
        months = try Self.parse(fields[3], "month", 1...12)
        daysOfWeek = Set(try Self.parse(fields[4], "day of week", 0...7).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
    }

    public var description: String { text }

    /// The first minute strictly after `date` that matches, within the next five years.
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var components = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        components.second = 0
        guard var candidate = calendar.date(from: components)?.addingTimeInterval(60) else { return nil }
        let limit = date.addingTimeInterval(5 * 366 * 86400)
        while candidate <= limit {
            let c = calendar.dateComponents([.month, .day, .hour, .minute, .weekday], from: candidate)
            guard let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute, let weekday = c.weekday else { return nil }
            if !months.contains(month) {
                // Jump to the first minute of the next month.
                candidate = calendar.date(from: DateComponents(
                    year: calendar.component(.year, from: candidate), month: month + 1, day: 1, hour: 0, minute: 0)) ?? limit
                continue
            }
            if !matchesDay(day: day, weekday: weekday - 1) {
                candidate = calendar.startOfDay(for: candidate).addingTimeInterval(86400)
                continue
            }
            if !hours.contains(hour) {
                candidate = candidate.addingTimeInterval(TimeInterval((60 - minute) * 60))
                continue
            }
            if minutes.contains(minute) { return candidate }
            candidate = candidate.addingTimeInterval(60)
        }
        return nil
    }

    private func matchesDay(day: Int, weekday: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(day)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }

    static func parse(_ field: String, _ name: String, _ range: ClosedRange<Int>) throws(CronError) -> Set<Int> {
        var values: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw .badField(name, field) }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw .badField(name, field) }
                step = parsed
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let low = Int(pieces[0][..<dash]), let high = Int(pieces[0][pieces[0].index(after: dash)...]), low <= high
                else { throw .badField(name, field) }
                span = low...high
            } else {
                guard let value = Int(pieces[0]) else { throw .badField(name, field) }
                span = value...(pieces.count == 2 ? range.upperBound : value)
            }
            guard range.contains(span.lowerBound), range.contains(span.upperBound) else {
                throw .outOfRange(name, field, range)
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }
}

public enum CronError: Error, Sendable, Hashable, CustomStringConvertible {
    case fieldCount(Int)
    case badField(String, String)
    case outOfRange(String, String, ClosedRange<Int>)

    public var description: String {
        switch self {
        case .fieldCount(let count): return "a cron schedule has 5 fields (minute hour day month weekday), found \(count)"
        case .badField(let name, let field): return "'\(field)' is not a valid \(name) field"
        case .outOfRange(let name, let field, let range): return "\(name) '\(field)' is outside \(range.lowerBound)-\(range.upperBound)"
        }
    }
}
