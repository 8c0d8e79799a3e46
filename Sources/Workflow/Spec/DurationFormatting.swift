import StrictYAML

/// Durations in the operator's notation (`30s`, `1h30m`), shared with config files.
enum DurationFormatting {
    static func parse(_ text: String) -> Duration? { DurationText.parse(text) }
    static func text(_ duration: Duration) -> String { DurationText.format(duration) }
}
