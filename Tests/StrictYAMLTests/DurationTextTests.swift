import StrictYAML
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("30s", Duration.seconds(30)), ("15m", .seconds(900)), ("1h30m", .seconds(5400)), ("2d", .seconds(172_800)),
        ("500ms", .milliseconds(500)), ("0", .zero), ("1.5s", .milliseconds(1500)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "s", "10x", "1h 30m", "-5s", "1.2.3s"])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(arguments: [Duration.seconds(5400), .milliseconds(1500), .seconds(172_800), .seconds(59)])
    func formatsWhatItParses(duration: Duration) {
        #expect(DurationText.parse(DurationText.format(duration)) == duration)
    }
}
