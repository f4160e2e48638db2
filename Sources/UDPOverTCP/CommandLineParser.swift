/// A command line that cannot be run; the tool prints it with the usage and exits 2.
public struct UsageError: Error, Equatable, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// One `--long` flag a tool accepts.
struct FlagSpec: Sendable {
    /// The name without dashes, e.g. `udp-listen`.
    var name: String
    /// What the value looks like in the help (`IP:PORT`), or nil for a flag without a value.
    var valueName: String?
    /// May be given more than once (e.g. `--tcp-listen`).
    var repeatable = false
    var help: String
}

/// What a command line asks for.
public enum Invocation<Configuration: Sendable>: Sendable {
    case help
    case version
    case run(Configuration)
}

/// Flags and their values as given, checked against a list of `FlagSpec`s: `--name value` and
/// `--name=value` both work; unknown flags, stray words and missing values are usage errors.
struct ParsedFlags {
    private var values: [String: [String]] = [:]
    private(set) var wantsHelp = false
    private(set) var wantsVersion = false

    init(_ arguments: [String], accepting flags: [FlagSpec]) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help":
                wantsHelp = true
                continue
            case "-V", "--version":
                wantsVersion = true
                continue
            default:
                break
            }
            guard argument.hasPrefix("--"), argument.count > 2 else { throw UsageError("unexpected argument \"\(argument)\"") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = flags.first(where: { $0.name == name }) else { throw UsageError("unknown flag --\(name)") }
            guard spec.repeatable || values[name] == nil else { throw UsageError("--\(name) given more than once") }
            if spec.valueName == nil {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                values[name, default: []].append("")
            } else if let inlineValue {
                values[name, default: []].append(inlineValue)
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value (\(spec.valueName!))") }
                values[name, default: []].append(arguments[index])
                index += 1
            }
        }
    }

    /// The value of a single-valued flag, if given.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of a repeatable flag, in order.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether a flag without a value was given.
    func isSet(_ name: String) -> Bool { values[name] != nil }

    /// The value of a required flag.
    func required(_ name: String) throws(UsageError) -> String {
        guard let value = value(name) else { throw UsageError("--\(name) is required") }
        return value
    }

    /// A decimal integer flag within `range`, if given.
    func integer<Value: FixedWidthInteger>(_ name: String, in range: ClosedRange<Value>) throws(UsageError) -> Value? {
        guard let text = value(name) else { return nil }
        guard let number = Value(text), range.contains(number) else {
            throw UsageError("--\(name): \"\(text)\" is not a number in \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }
}

/// The `--help` text: usage line, description, then one entry per flag.
func helpText(tool: String, about: String, flags: [FlagSpec], required: Set<String>) -> String {
    var usage = "Usage: \(tool)"
    for flag in flags where required.contains(flag.name) {
        usage += " --\(flag.name) <\(flag.valueName ?? "")>"
    }
    usage += " [OPTIONS]"
    var text = wrap(about, width: 80).joined(separator: "\n") + "\n\n\(usage)\n\nOptions:\n"
    let all = flags + [
        FlagSpec(name: "help", help: "Print help (also -h)"),
        FlagSpec(name: "version", help: "Print version (also -V)"),
    ]
    for flag in all {
        let left = "  --\(flag.name)" + (flag.valueName.map { " <\($0)>" } ?? "")
        text += left + "\n"
        for line in wrap(flag.help, width: 72) { text += "          " + line + "\n" }
    }
    return text
}

private func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty, line.count + 1 + word.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}
