import CSupervisor
import CSystemShims
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The signal mask of an init process and the descriptor its signals are read from.
public enum InitSignals {
    /// Signals the kernel raises for a fault in the running code; they stay unblocked so a crash
    /// still kills vpn-init instead of leaving it hung. (The kernel drops signals with the
    /// default action that other processes send to PID 1, so `kill -SEGV 1` does nothing; blocked
    /// signals are queued instead, for the signalfd: kernel/signal.c, sig_task_ignored.)
    public static let faults: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS]

    /// Signals passed on to the main command's process group.
    public static let forwarded: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGWINCH]

    /// Blocks every signal but the faults in the calling thread, and so in every thread it starts
    /// later (the corresponding C function is `pthread_sigmask`). Call it first, before any thread
    /// exists: a signal then waits, pending, until the loop reads it from a `SignalReader`.
    /// Returns the blocked set.
    public static func blockAllButFaults() throws(SystemCallError) -> sigset_t {
        var set = sigset_t()
        sigfillset(&set)
        for signal in faults { sigdelset(&set, signal) }
        let result = pthread_sigmask(SIG_SETMASK, &set, nil)
        if result != 0 { throw SystemCallError("pthread_sigmask", errno: result) }
        return set
    }

    /// Makes this process the reaper of its orphaned descendants, as PID 1 is for a container
    /// (the corresponding C call is `prctl(PR_SET_CHILD_SUBREAPER)`).
    public static func becomeSubreaper() throws(SystemCallError) {
        _ = try valueOrErrno("prctl PR_SET_CHILD_SUBREAPER") { vpn_set_child_subreaper() }
    }
}

/// Reads blocked signals from a `signalfd`, so the event loop waits for signals, timers and
/// other descriptors in one `poll`.
public final class SignalReader {
    /// The non-blocking, close-on-exec descriptor to poll for reading.
    public let fileDescriptor: Int32

    /// Opens a signalfd for `signals`, which must be blocked in every thread (the corresponding C
    /// function is `signalfd`).
    public init(signals: sigset_t) throws(SystemCallError) {
        var set = signals
        fileDescriptor = try valueOrErrno("signalfd") { signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    deinit { _ = close(fileDescriptor) }

    /// A signal that was read, with the sender's process ID (0 when the kernel sent it).
    public struct Received: Sendable, Equatable {
        public var signal: Int32
        public var senderPID: pid_t
    }

    /// Every signal pending now, oldest first; empty when none is.
    public func drain() -> [Received] {
        var received: [Received] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let count = read(fileDescriptor, &info, size)
            if count == size {
                received.append(Received(signal: Int32(info.ssi_signo), senderPID: pid_t(bitPattern: info.ssi_pid)))
                continue
            }
            if count < 0 && currentErrno() == EINTR { continue }
            return received
        }
    }
}
