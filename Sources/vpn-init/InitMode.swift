#if canImport(Glibc)
import Glibc
#endif
import VPNLog

// Replaced by the supervisor's init loop (issue 3).
enum InitMode {
    static func run(command: [String]) -> Never {
        do {
            _ = try Boot.prepare(environment: environmentDictionary())
        } catch {
            for line in error.lines { Log.error(line) }
            exit(error.exitCode)
        }
        exit(0)
    }
}
