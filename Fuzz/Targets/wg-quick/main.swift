import Config
import FuzzSupport

// WireGuardQuickConfig.parse(_:file:) on any text. Properties: a successful parse renders to
// a file that parses back equal (and renders to the same text again); on failure every problem
// is one line naming this file with a line number inside it, and no key-like text appears in
// the messages.

runFuzzer(fuzzWireGuardQuick)

func fuzzWireGuardQuick(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    do {
        let config = try WireGuardQuickConfig.parse(text, file: "fuzz.conf")
        let rendered = config.render()
        do {
            let again = try WireGuardQuickConfig.parse(rendered, file: "rendered.conf")
            require(again == config, "parse(render(c)) != c:\n\(rendered)\nparsed: \(again)\nwant: \(config)")
            require(again.render() == rendered, "render is not stable:\n\(rendered)")
        } catch {
            require(false, "a parsed config renders to a file that does not parse: \(error)\n\(rendered)")
        }
    } catch {
        let lineCount = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
        for problem in error.problems {
            require(problem.file == "fuzz.conf", "problem names file \(problem.file.debugDescription)")
            require(problem.line >= 1 && problem.line <= max(lineCount, 1), "problem on line \(problem.line) of \(lineCount): \(problem)")
            let line = problem.description
            require(!line.contains("\n") && !line.contains("\r"), "problem is not one line: \(line.debugDescription)")
        }
        if let key = keyLikeText(in: error.description, from: text) {
            require(false, "a key appears in the messages: \(key.prefix(6))... in \(error.description.debugDescription)")
        }
    }
}
