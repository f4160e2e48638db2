/// One thing wrong with the environment: the variable and why, e.g.
/// `WG_PEER_B_ENDPOINT: missing port in "node-b"`.
///
/// `reason` never holds key material: values of `WG_PRIVATE_KEY` and `*_KEY` variables are never
/// quoted. `description` escapes control characters, so a hostile value cannot forge a line.
public struct ConfigProblem: Equatable, Sendable, CustomStringConvertible {
    /// The environment variable at fault (for a missing one, the one to set).
    public var variable: String
    /// Why, in words that follow the variable's name.
    public var reason: String
    /// Where the variable was set when not in the environment: `FILE:LINE` of `WG_PEERS_FILE`.
    public var location: String?

    /// A problem; anything in `reason` that looks like key material is replaced by `<redacted>`.
    public init(variable: String, reason: String, location: String? = nil) {
        self.variable = variable
        self.reason = Display.redactingKeys(reason)
        self.location = location
    }

    public var description: String {
        let place = location.map { "\(Display.escaped($0)): " } ?? ""
        return place + "\(Display.name(Display.redactingKeys(variable))): \(Display.escaped(Display.redactingKeys(reason)))"
    }
}

/// Every problem found in the environment: interface settings first (in README.md's environment table
/// order), then each peer (unnamed first, then by name), then unknown variables by name.
/// `description` has one line per problem.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// The variables named by the problems, each once, in order.
    public var variables: [String] {
        var seen = Set<String>()
        return problems.map(\.variable).filter { seen.insert($0).inserted }
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// One thing wrong in a wg-quick file: `/data/wg0.conf:7: PublicKey: not a valid base64 key`.
/// Key values are never quoted.
public struct ConfigFileProblem: Equatable, Sendable, CustomStringConvertible {
    /// The file's path as given to the parser.
    public var file: String
    /// The 1-based line number.
    public var line: Int
    /// The key of that line (`PublicKey`), or nil for a problem with the line itself.
    public var key: String?
    /// Why, in words that follow the key.
    public var reason: String

    /// A problem; anything in `reason` that looks like key material is replaced by `<redacted>`.
    public init(file: String, line: Int, key: String?, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = Display.redactingKeys(reason)
    }

    public var description: String {
        let prefix = "\(Display.escaped(file)):\(line): "
        let reason = Display.escaped(Display.redactingKeys(reason))
        guard let key else { return prefix + reason }
        return prefix + "\(Display.name(Display.redactingKeys(key))): \(reason)"
    }
}

/// Every problem found in a wg-quick file, in line order; one line per problem.
public struct ConfigFileErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [ConfigFileProblem]

    public init(problems: [ConfigFileProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// How user-supplied text is shown in messages: quoted, control characters escaped, and cut
/// short when huge, so a 1 MB value gives a one-line message of bounded length.
enum Display {
    /// At most this many characters of a value are shown.
    static let maximumShown = 64

    /// `"value"` with `"`, `\` and control characters escaped and values over 64 bytes cut
    /// short (at a character boundary), with their length in bytes.
    static func quoted(_ value: some StringProtocol) -> String {
        var scalars = Substring(value).unicodeScalars
        var suffix = ""
        if value.utf8.count > maximumShown {
            var bytes = 0
            let end = scalars.firstIndex { scalar in
                bytes += UTF8.width(scalar)
                return bytes > maximumShown
            } ?? scalars.endIndex
            suffix = "... (\(value.utf8.count) bytes)"
            scalars = scalars[..<end]
        }
        return "\"" + escape(scalars, quotes: true) + "\"" + suffix
    }

    /// A variable or key name: as is when plain, else escaped and shortened like a value.
    static func name(_ name: String) -> String {
        let plain = name.utf8.count <= maximumShown
            && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f }
        return plain ? name : quoted(name)
    }

    /// Text with control characters escaped (`\n`, `\u{1b}`), for whole messages.
    static func escaped(_ text: String) -> String {
        let needsWork = text.unicodeScalars.contains { isControl($0) }
        return needsWork ? escape(Substring(text).unicodeScalars, quotes: false) : text
    }

    /// The text with every run of 32 or more base64 characters (`A-Za-z0-9+/=`) that mixes
    /// upper- and lower-case letters replaced by `<redacted>`: a key pasted into the wrong
    /// variable is never echoed. Hex ids and long numbers (one case only) are kept.
    static func redactingKeys(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var run = String.UnicodeScalarView()
        var hasUpper = false, hasLower = false
        func flush() {
            if run.count >= 32 && hasUpper && hasLower {
                out.append(contentsOf: "<redacted>".unicodeScalars)
            } else {
                out.append(contentsOf: run)
            }
            run = String.UnicodeScalarView()
            hasUpper = false
            hasLower = false
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "A"..."Z": hasUpper = true; run.append(scalar)
            case "a"..."z": hasLower = true; run.append(scalar)
            case "0"..."9", "+", "/", "=": run.append(scalar)
            default:
                flush()
                out.append(scalar)
            }
        }
        flush()
        return String(out)
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7f && scalar.value < 0xa0)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    private static func escape(_ scalars: Substring.UnicodeScalarView, quotes: Bool) -> String {
        var out = ""
        for scalar in scalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"" where quotes: out += "\\\""
            case "\\" where quotes: out += "\\\\"
            default:
                if isControl(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
