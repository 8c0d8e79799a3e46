public import Foundation
public import OSIS

/// Something that happened to a machine or a run: a DHCP exchange, a TFTP transfer, a job transition, a
/// report from the machine's agent. Events feed the status page's log and boot trace, and wake workflow
/// steps that wait for them.
public struct Event: OSISObject, Hashable {
    public static let kind = "event"
    public static let viewColumns = [
        ViewColumn("type"), ViewColumn("machine"), ViewColumn("run", sparse: true), ViewColumn("at", field: "time"),
        ViewColumn("message", indexed: false),
    ]

    /// The event a run emits when it reaches a final state; `run` names it, `data["state"]` says how.
    public static let runFinished = "run.finished"

    /// Time-ordered and unique: listing by id lists by time.
    public var id: String
    /// Dotted name: `dhcp.discover`, `tftp.transfer`, `machine.booted`, `job.succeeded`, …
    public var type: String
    public var machine: String?
    public var run: String?
    public var time: Date
    public var message: String
    public var data: [String: String]

    public init(
        type: String, machine: String? = nil, run: String? = nil, time: Date, message: String = "", data: [String: String] = [:]
    ) {
        self.id = Self.makeID(time)
        self.type = type
        self.machine = machine
        self.run = run
        self.time = time
        self.message = message
        self.data = data
    }

    static func makeID(_ time: Date) -> String {
        idFloor(time) + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
    }

    /// Sorts below the id of every event at or after `time`: list events `after:` it to read from `time` on.
    static func idFloor(_ time: Date) -> String {
        let micros = UInt64(max(0, time.timeIntervalSince1970 * 1_000_000))
        return String(micros, radix: 16).leftPadded(to: 14) + "-"
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension Event {
    /// The `run.finished` event of a run in a final state.
    static func finished(_ run: Run, now: Date) -> Event {
        Event(type: runFinished, machine: run.machine, run: run.id, time: now, message: "run \(run.id) \(run.state.rawValue)", data: ["state": run.state.rawValue])
    }
}
