import Testing
@testable import VPNLog

@Suite struct LogTests {
    @Test(arguments: [
        ("ready", "ready"),
        ("child exited", "\"child exited\""),
        ("", "\"\""),
        ("a=b", "\"a=b\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("line\nforged=1", "\"line\\nforged=1\""),
        ("back\\slash", "\"back\\\\slash\""),
        ("bell\u{7}", "\"bell\\u0007\""),
        ("café", "\"café\""),
    ])
    func quotesValues(raw: String, quoted: String) {
        #expect(Log.quote(raw) == quoted)
    }

    @Test func formatsALine() {
        let line = Log.format(.info, "ready", [("interface", "wg0"), ("peers", 1), ("skipped", nil)])
        #expect(line == "level=info msg=ready interface=wg0 peers=1")
    }

    @Test(arguments: [("debug", LogLevel.debug), ("INFO", .info), ("warning", .warn), ("Error", .error)])
    func parsesLevels(name: String, level: LogLevel) {
        #expect(LogLevel(name: name) == level)
    }

    @Test func rejectsUnknownLevels() {
        #expect(LogLevel(name: "verbose") == nil)
        #expect(LogLevel(name: "") == nil)
    }
}
