import CSupervisor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a child process ended, decoded from a `waitpid` status.
public enum TerminationStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The process called `exit` with this code (0-255).
    case exited(Int32)
    /// The process was killed by this signal.
    case signaled(Int32)

    /// Decodes a raw wait status (the corresponding C macros are `WIFEXITED`, `WEXITSTATUS`,
    /// `WIFSIGNALED` and `WTERMSIG`). Nil for a stopped or continued process.
    public init?(waitStatus: Int32) {
        var value: Int32 = 0
        switch vpn_wait_status_decode(waitStatus, &value) {
        case 1: self = .exited(value)
        case 2: self = .signaled(value)
        default: return nil
        }
    }

    /// The code a shell would report: the exit code, or 128+N when killed by signal N.
    public var shellCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    /// Whether the process exited with code 0.
    public var isSuccess: Bool { self == .exited(0) }

    /// `exit 3` or `signal SIGKILL`.
    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(SignalName.of(signal))"
        }
    }
}

/// Names of signal numbers, for logs.
public enum SignalName {
    /// The symbolic name of a signal, e.g. `SIGTERM`, or `SIG<N>` for one without a name.
    public static func of(_ signal: Int32) -> String {
        names[signal] ?? "SIG\(signal)"
    }

    private static let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
        SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        SIGSTKFLT: "SIGSTKFLT", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP",
        SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU",
        SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH",
        SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS",
    ]
}
