#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A program the supervisor keeps running: what to run and what to do when it exits.
public struct ChildSpec {
    /// The name in logs (`name=wireguard-go`); unique among children.
    public var name: String
    /// The program (a path, or a bare name searched for in the environment's `PATH`) and its
    /// arguments, `arguments[0]` first.
    public var arguments: [String]
    /// The child's whole environment.
    public var environment: [String: String]
    /// Whether it is started again after it exits.
    public var restart: RestartPolicy
    /// Where its standard input comes from.
    public var standardInput: StandardInput
    /// Run after each start (and restart) once the program runs, on the supervisor's loop;
    /// keep it short. When it throws, the error is logged and the child is sent SIGTERM, so its
    /// restart policy applies as for a crash.
    public var afterStart: ((StartedChild) throws -> Void)?
    /// Run before each start (and restart): opens descriptors the program inherits as 3, 4, ...
    /// in this order (at most 16), e.g. a listening socket. The supervisor closes its copies once
    /// the program runs. When it throws, the start counts as failed and is retried as the restart
    /// policy says.
    public var openDescriptors: (() throws -> [Int32])?
    /// What it gives up before its program runs: its user, capabilities, no_new_privs.
    public var privileges: Privileges

    public init(
        name: String, arguments: [String], environment: [String: String], restart: RestartPolicy,
        standardInput: StandardInput = .null, privileges: Privileges = .unchanged,
        openDescriptors: (() throws -> [Int32])? = nil, afterStart: ((StartedChild) throws -> Void)? = nil
    ) {
        self.name = name
        self.arguments = arguments
        self.environment = environment
        self.restart = restart
        self.standardInput = standardInput
        self.privileges = privileges
        self.openDescriptors = openDescriptors
        self.afterStart = afterStart
    }
}

/// A child that has just started, as given to `ChildSpec.afterStart`.
public struct StartedChild: Sendable, Equatable {
    /// The child's name.
    public var name: String
    /// Its process ID, which is also its process group ID.
    public var pid: pid_t
    /// How many times it has been started, this start included (1 for the first).
    public var starts: Int

    public init(name: String, pid: pid_t, starts: Int) {
        self.name = name
        self.pid = pid
        self.starts = starts
    }
}

/// A child's state inside the supervisor.
final class ChildRecord {
    let spec: ChildSpec
    let isMain: Bool
    var machine: RestartStateMachine
    /// The running process (and process group), or 0.
    var pid: pid_t = 0
    /// A descriptor readable when the process exits, or -1.
    var pidDescriptor: Int32 = -1
    var starts = 0
    /// Whether shutdown has signalled it.
    var terminated = false
    /// Stopped for good with `Supervisor.stop`: its record goes once it has exited.
    var removed = false

    init(spec: ChildSpec, isMain: Bool, backoff: Backoff) {
        self.spec = spec
        self.isMain = isMain
        machine = RestartStateMachine(policy: spec.restart, backoff: backoff)
    }
}
