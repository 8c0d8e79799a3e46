import StrictYAML
import Testing

@Suite struct YAMLMappingTests {
    /// Reads `{ name: string, count: int 1...10 }` strictly and returns the diagnostics as text.
    func diagnostics(_ yaml: String) -> [String] {
        let log = DiagnosticLog()
        if let root = YAMLNode.parse(yaml, file: "t.yaml", log: log), let map = root.mapping() {
            _ = map.required("name")?.string()
            _ = map["count"]?.int(in: 1...10)
            map.finish()
        }
        return log.items.map(\.description)
    }

    @Test func acceptsAValidDocument() {
        #expect(diagnostics("name: a\ncount: 3\n") == [])
    }

    @Test func reportsUnknownKeyAtItsPositionWithAHint() {
        #expect(diagnostics("name: a\ncuont: 3\n") == [
            "t.yaml:2:1: unknown key 'cuont': did you mean 'count'? (allowed here: count, name)"
        ])
    }

    @Test func reportsEveryProblemAtOnce() {
        #expect(diagnostics("count: many\nextra: 1\n") == [
            "t.yaml:1:1: missing required key 'name'",
            "t.yaml:1:8: expected an integer, found 'many'",
            "t.yaml:2:1: unknown key 'extra' (allowed here: count, name)",
        ])
    }

    @Test func reportsOutOfRange() {
        #expect(diagnostics("name: a\ncount: 11\n") == ["t.yaml:2:8: 11 is out of range: expected 1 to 10"])
    }

    @Test func reportsWrongShape() {
        #expect(diagnostics("name: [a, b]\n") == ["t.yaml:1:7: expected a string, found a list"])
    }

    @Test func reportsSyntaxErrorsWithPosition() {
        let found = diagnostics("name: a\n  bad: [\n")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("t.yaml:"))
        #expect(found[0].contains("YAML syntax error"))
    }

    @Test func quotedNumbersAreNotIntegers() {
        #expect(diagnostics("name: a\ncount: \"3\"\n") == ["t.yaml:2:8: expected an integer, found '3'"])
    }
}
