import CSupervisor
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a child's standard input comes from.
public enum StandardInput: Sendable, Equatable {
    /// `/dev/null`: the child cannot read the container's terminal or pipe.
    case null
    /// vpn-init's own standard input (for the main command, as `docker run -i` expects).
    case inherit
}

/// Starting one program in a new process group: fork and exec happen in C (`vpn_spawn`).
public enum Spawn {
    /// The search path used when the environment has no `PATH` (Docker's default).
    public static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// What came of a start.
    public struct Outcome: Sendable, Equatable {
        /// The child's process ID (also its process group), or nil when no process was created.
        public var pid: pid_t?
        /// Why the program is not running: the failed step, the program, the errno. When `pid`
        /// is set, the child exits at once with 127 (no such file) or 126 (cannot run it).
        public var error: SystemCallError?
    }

    /// Starts `arguments[0]` (searched for in the environment's `PATH` when it has no slash) with
    /// `arguments` and `environment`, in its own process group, with default signal handling;
    /// returns once the program runs or failed to. Standard output and error are vpn-init's.
    /// `foreground` hands a terminal on standard input to the child's group. `descriptors` become
    /// the program's descriptors 3, 4, ... in order (at most 16); the caller keeps its copies.
    /// `privileges` are given up just before exec (after the descriptors are placed and standard
    /// input is opened); a step that fails is reported like a failed exec, and the program never
    /// runs with more than asked.
    public static func start(
        arguments: [String], environment: [String: String], standardInput: StandardInput, foreground: Bool = false,
        descriptors: [Int32] = [], privileges: Privileges = .unchanged
    ) -> Outcome {
        guard let program = arguments.first else {
            return Outcome(pid: nil, error: SystemCallError("exec", "", errno: ENOENT))
        }
        let searchPath = environment["PATH"] ?? defaultSearchPath
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        defer {
            argv.free()
            envp.free()
        }
        var flags: Int32 = 0
        if standardInput == .null { flags |= Int32(VPN_SPAWN_STDIN_NULL) }
        if foreground { flags |= Int32(VPN_SPAWN_FOREGROUND) }
        var result = vpn_spawn_result()
        var drop = vpn_spawn_privileges()
        drop.no_new_privs = privileges.noNewPrivileges ? 1 : 0
        if let user = privileges.user {
            drop.change_ids = 1
            drop.uid = user.uid
            drop.gid = user.gid
        }
        if privileges.capabilities != nil {
            drop.limit_capabilities = 1
            drop.capabilities = privileges.capabilityMask
        }
        let dropsAny = privileges != .unchanged
        descriptors.withUnsafeBufferPointer { passed in
            withUnsafePointer(to: &drop) { drop in
                vpn_spawn(program, argv.pointers, envp.pointers, searchPath, flags, passed.baseAddress, Int32(passed.count),
                          dropsAny ? drop : nil, &result)
            }
        }
        let pid: pid_t? = result.pid > 0 ? result.pid : nil
        guard result.error != 0 else { return Outcome(pid: pid, error: nil) }
        let step = String(cString: vpn_spawn_step_name(result.step))
        let object = result.step == Int32(VPN_SPAWN_STEP_EXEC) ? program : ""
        return Outcome(pid: pid, error: SystemCallError(step, object, errno: result.error))
    }
}

/// A NULL-terminated array of C strings (argv, envp) that lives until `free`.
struct CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    func free() {
        var index = 0
        while let pointer = pointers[index] {
            Glibc.free(pointer)
            index += 1
        }
        pointers.deallocate()
    }
}

/// The process's own environment and standard streams.
public enum ProcessEnvironment {
    /// The environment vpn-init was started with (`environ`), as a dictionary. An entry without
    /// `=` is left out; for a repeated name the first entry wins, as `getenv` does.
    public static func current() -> [String: String] {
        var environment: [String: String] = [:]
        // The kernel always gives a process an environment array, possibly empty.
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "="), environment[String(text[..<equals])] == nil {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return environment
    }

    /// Opens `/dev/null` on any of descriptors 0, 1 and 2 that is closed, so no later descriptor
    /// (a pipe, a socket) takes their place and gets a child's output by mistake.
    public static func ensureStandardStreams() {
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && currentErrno() == EBADF {
            let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
            if opened >= 0 && opened != descriptor {
                _ = dup2(opened, descriptor)
                _ = close(opened)
            }
        }
    }
}
