#if canImport(Glibc)
import Glibc
#endif
import Config
import NodeBoot
import SystemCalls

/// `vpn-init reload [--interface NAME]`: makes the running vpn-init read `WG_PEERS_FILE` again
/// (it sends SIGHUP to the process its status file names) and waits for the outcome, for
/// `docker exec`. Exit 0 when the peers were applied or already ran, 78 when the file was
/// refused (its problems on standard error), 1 when applying failed or vpn-init did not answer.
enum ReloadCommand {
    /// How long to wait for the outcome.
    static let timeout = 30.0

    static func run(_ arguments: [String]) -> ExitCode {
        let parsed = CommandOptions.parse("reload", arguments)
        guard case .options(let interface, _) = parsed else { return parsed.exitCode }
        let path = PeerReload.statusPath(interface: interface)
        guard let before = read(path)?.fields, let pid = Int32(before["pid"] ?? ""), pid > 0 else {
            printError("vpn-init reload: no running vpn-init for \(interface) (\(path) is missing or unreadable)")
            return .failure
        }
        let generation = Int(before["generation"] ?? "") ?? 0
        guard kill(pid, SIGHUP) == 0 else {
            printError("vpn-init reload: cannot signal vpn-init (pid \(pid)): \(SystemCallError.current("kill", String(pid)))")
            return .failure
        }
        let deadline = monotonicSeconds() + timeout
        while true {
            if let after = read(path), let seen = Int(after.fields["generation"] ?? ""), seen > generation {
                return report(after.fields, problems: after.problems)
            }
            guard monotonicSeconds() < deadline else {
                printError("vpn-init reload: no answer from vpn-init (pid \(pid)) within \(Int(timeout)) s")
                return .failure
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            _ = nanosleep(&pause, nil)
        }
    }

    private static func report(_ status: [String: String], problems: [String]) -> ExitCode {
        for problem in problems { printError(problem) }
        let summary = status["summary"] ?? ""
        switch status["status"] {
        case "applied", "unchanged", "no-file":
            print(summary)
            return .success
        case "refused":
            printError(summary)
            return .configuration
        default:
            printError(summary)
            return .failure
        }
    }

    /// The status file's `key=value` lines, and its `problem=` lines in order.
    private static func read(_ path: String) -> (fields: [String: String], problems: [String])? {
        guard let bytes = try? Files.read(path, limit: 1 << 20) else { return nil }
        var fields: [String: String] = [:]
        var problems: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            if key == "problem" { problems.append(value) } else { fields[key] = value }
        }
        return (fields, problems)
    }
}
