import SystemCalls

/// `WG_PEERS_FILE`: peers in a file, one `WG_PEER_...=value` line each, with the environment's
/// names and rules; `#` starts a comment line, blank lines are skipped, and the value is
/// everything after the first `=` as written (no quotes are removed). A sidecar or registry can
/// write it; it is read at boot with the environment's peers.
public struct PeersFile: Equatable, Sendable {
    /// One `NAME=value` line.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var value: String
        /// 1-based.
        public var line: Int
    }

    public var path: String
    public var entries: [Entry]

    /// The largest file read.
    public static let sizeLimit = 1 << 20

    /// Reads `text` (the content of `path`): the entries, and a problem for each line that is not
    /// a peer variable, or sets one a second time.
    public static func parse(_ text: String, path: String) -> (file: PeersFile, problems: [ConfigFileProblem]) {
        var entries: [Entry] = []
        var problems: [ConfigFileProblem] = []
        var firstLine: [String: Int] = [:]
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = index + 1
            var line = Substring(raw)
            if line.last == "\r" { line.removeLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                problems.append(ConfigFileProblem(file: path, line: number, key: nil, reason: "expected WG_PEER_<NAME>_<FIELD>=value"))
                continue
            }
            let name = String(trimmed[..<equals]).trimmingTrailingBlanks
            let value = String(trimmed[trimmed.index(after: equals)...])
            switch VariableName(name) {
            case .peer, .invalidPeerName:
                break
            case .unknown where name.hasPrefix("WG_PEER_"):
                let fields = PeerField.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(ConfigFileProblem(file: path, line: number, key: name, reason: "no such peer field (the fields: \(fields))"))
                continue
            case .setting, .unknown, .foreign:
                problems.append(ConfigFileProblem(file: path, line: number, key: name,
                                                  reason: "only WG_PEER_ variables belong in WG_PEERS_FILE; set the others in the environment"))
                continue
            }
            if let first = firstLine[name] {
                problems.append(ConfigFileProblem(file: path, line: number, key: name, reason: "set again (first on line \(first))"))
                continue
            }
            firstLine[name] = number
            entries.append(Entry(name: name, value: value, line: number))
        }
        return (PeersFile(path: path, entries: entries), problems)
    }

    /// The peer (its variable prefix, `WG_PEER_B_` or `WG_PEER_`) a variable belongs to, if any.
    static func peerPrefix(of name: String) -> String? {
        switch VariableName(name) {
        case .peer(let peer, _): PeerField.prefix(name: peer)
        case .invalidPeerName(let peer, _): PeerField.prefix(name: peer)
        default: nil
        }
    }
}

extension String {
    fileprivate var trimmingTrailingBlanks: String {
        var text = Substring(self)
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}

extension VPNConfig {
    /// `parse(environment:)` with the peers of `WG_PEERS_FILE` added: the file is read and its
    /// lines checked; a peer with variables in both the environment and the file is refused,
    /// naming both places; problems with the file's variables are reported as
    /// `FILE:LINE: VARIABLE: reason`.
    static func parseWithPeersFile(environment: [String: String], parse: ([String: String]) -> (VPNConfig?, [ConfigProblem])) -> (VPNConfig?, [ConfigProblem]) {
        let variable = Setting.peersFile.rawValue
        guard let path = environment[variable], path.hasPrefix("/") else { return parse(environment) }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: PeersFile.sizeLimit)
        } catch {
            let (config, problems) = parse(environment)
            return (config, problems + [ConfigProblem(variable: variable, reason: "\(error)")])
        }
        let (file, fileProblems) = PeersFile.parse(String(decoding: bytes, as: UTF8.self), path: path)
        var merged = environment
        var locations: [String: String] = [:]
        var peerLocations: [String: String] = [:]
        var problems: [ConfigProblem] = fileProblems.map {
            ConfigProblem(variable: $0.key ?? variable, reason: $0.reason, location: "\(path):\($0.line)")
        }
        var environmentPeers: [String: String] = [:]
        for name in environment.keys.sorted() {
            if let prefix = PeersFile.peerPrefix(of: name), environmentPeers[prefix] == nil { environmentPeers[prefix] = name }
        }
        var reported = Set<String>()
        for entry in file.entries {
            guard let prefix = PeersFile.peerPrefix(of: entry.name) else { continue }
            if let other = environmentPeers[prefix] {
                if reported.insert(prefix).inserted {
                    problems.append(ConfigProblem(variable: entry.name, reason: "peer \(prefix)* is defined both in the environment (\(other)) and in \(path)",
                                                  location: "\(path):\(entry.line)"))
                }
                continue
            }
            merged[entry.name] = entry.value
            locations[entry.name] = "\(path):\(entry.line)"
            if peerLocations[prefix] == nil { peerLocations[prefix] = "\(path):\(entry.line)" }
        }
        let (config, parsed) = parse(merged)
        problems += parsed.map { problem in
            var problem = problem
            // A variable the file lacks (a required key, say) points at its peer's first line.
            problem.location = locations[problem.variable] ?? PeersFile.peerPrefix(of: problem.variable).flatMap { peerLocations[$0] }
            return problem
        }
        return (config, problems)
    }
}
