import Netlink
import SystemCalls

/// Fixture files under Tests/Fixtures: `#` comment lines (the command that produced the
/// bytes), then hex bytes, datagrams separated by blank lines.
public enum Fixture {
    /// The directory holding the fixtures, found from this source file's path.
    public static let directory: String = {
        let file = #filePath
        let tests = Files.directory(of: Files.directory(of: file))
        return "\(tests)/Fixtures"
    }()

    /// The datagrams of `Tests/Fixtures/NAME.txt` (NAME like `netlink/rtm_getlink`).
    public static func datagrams(_ name: String) throws -> [[UInt8]] {
        let text = String(decoding: try Files.read("\(directory)/\(name).txt"), as: UTF8.self)
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { continue }
            if line.trimmingCharacters(in: " ").isEmpty {
                if !current.isEmpty { datagrams.append(current); current = [] }
                continue
            }
            for pair in line.split(separator: " ") {
                guard let byte = UInt8(pair, radix: 16) else { throw FixtureError("bad hex \"\(pair)\" in \(name)") }
                current.append(byte)
            }
        }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }

    /// The only datagram of a fixture.
    public static func bytes(_ name: String) throws -> [UInt8] {
        let all = try datagrams(name)
        guard all.count == 1 else { throw FixtureError("\(name) has \(all.count) datagrams, want 1") }
        return all[0]
    }

    /// The `#` lines of a fixture, without the `# `.
    public static func comments(_ name: String) throws -> [String] {
        let text = String(decoding: try Files.read("\(directory)/\(name).txt"), as: UTF8.self)
        return text.split(separator: "\n").filter { $0.hasPrefix("#") }.map { String($0.dropFirst(2)) }
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var text = self
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return text
    }
}
