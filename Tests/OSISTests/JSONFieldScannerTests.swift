import Foundation
import Testing

@testable import OSIS

/// The view projector's field scanner reads what `JSONEncoder` wrote exactly as a full JSON parser would.
@Suite struct JSONFieldScannerTests {
    struct Sample: Encodable {
        var name: String
        var count: Int64
        var ratio: Double
        var ok: Bool
        var missing: String?
        var nested: [String: [Int]]
        var list: [String]
    }

    @Test func readsEachKindOfValueAndSkipsTheRest() throws {
        let json = Data(#"{"list":["a","}"],"name":"x\"y\\z\/w","nested":{"k":[1,{"q":"]"}]},"count":-9007199254740993,"ratio":2.5e3,"ok":true,"gone":null}"#.utf8)
        let fields = JSONFieldScanner.fields(["name", "count", "ratio", "ok", "gone", "absent", "nested", "list"], of: json)
        #expect(
            fields == [
                .string(#"x"y\z/w"#), .number("-9007199254740993"), .number("2.5e3"), .bool(true), .null, .null,
                .composite(#"{"k":[1,{"q":"]"}]}"#), .composite(#"["a","}"]"#),
            ])
    }

    @Test func decodesUnicodeEscapesIncludingSurrogatePairs() {
        let json = Data(#"{"s":"\u00e9\ud83d\ude00\t\n\u0001"}"#.utf8)
        #expect(JSONFieldScanner.fields(["s"], of: json) == [.string("é😀\t\n\u{01}")])
    }

    @Test(arguments: [
        "", "[]", "{", #"{"a""#, #"{"a":}"#, #"{"a":1"#, #"{"a":1,}"#, #"{"a":1} x"#, #"{"a":"\q"}"#, #"{"a":"\u12"}"#,
        #"{"a":tru}"#, #"{"a":[1,2}"#, #"{a:1}"#, #"{"a":1 "b":2}"#,
    ])
    func refusesWhatIsNotAnObject(_ text: String) {
        #expect(JSONFieldScanner.fields(["a"], of: Data(text.utf8)) == nil)
    }

    /// Strings of awkward characters, encoded by the same encoder the store uses, read back unchanged.
    @Test func agreesWithTheEncoderOnRandomStrings() throws {
        let alphabet: [Character] = ["a", "\"", "\\", "/", "\n", "\t", "\u{00}", "\u{1F}", "é", "😀", "}", "{", ",", ":", " ", "["]
        var generator = SystemRandomNumberGenerator()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for _ in 0..<500 {
            let name = String((0..<Int.random(in: 0...20, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let list = (0..<Int.random(in: 0...3, using: &generator)).map { _ in name }
            let count = Int64.random(in: .min ... .max, using: &generator)
            let ratio = Double.random(in: -1e9...1e9, using: &generator)
            let sample = Sample(name: name, count: count, ratio: ratio, ok: Bool.random(using: &generator), missing: nil, nested: ["k": [1]], list: list)
            let fields = try #require(JSONFieldScanner.fields(["name", "count", "ok", "ratio"], of: try encoder.encode(sample)))
            #expect(fields[0] == .string(name))
            #expect(fields[1] == .number(String(count)))
            #expect(fields[2] == .bool(sample.ok))
            guard case .number(let text) = fields[3] else { Issue.record("ratio is \(fields[3])"); continue }
            #expect(Double(text) == ratio)
        }
    }

    @Test func columnsConvertLikeTheirTypes() {
        #expect(ViewColumn("c", .integer).value(from: .number("42")) == .integer(42))
        #expect(ViewColumn("c", .integer).value(from: .number("4.9")) == .integer(4))
        #expect(ViewColumn("c", .integer).value(from: .bool(true)) == .integer(1))
        #expect(ViewColumn("c", .integer).value(from: .string("7")) == .null)
        #expect(ViewColumn("c", .real).value(from: .number("0.25")) == .real(0.25))
        #expect(ViewColumn("c").value(from: .number("12")) == .text("12"))
        #expect(ViewColumn("c").value(from: .bool(false)) == .text("false"))
        #expect(ViewColumn("c").value(from: .composite("[1]")) == .text("[1]"))
        #expect(ViewColumn("c").value(from: .null) == .null)
    }
}
