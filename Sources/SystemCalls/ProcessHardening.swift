#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSystemShims

/// What a process holding secrets does to keep them to itself.
public enum ProcessHardening {
    /// No core dump (which would hold the process's keys), and no reading of its memory or
    /// environment through ptrace or /proc by anything without CAP_SYS_PTRACE, even a process
    /// of the same user. Programs it executes are dumpable again.
    public static func makeNotDumpable() throws(SystemCallError) {
        _ = try valueOrErrno("prctl PR_SET_DUMPABLE") { vpn_set_not_dumpable() }
    }

    /// Whether the process is dumpable now.
    public static var isDumpable: Bool { vpn_dumpable() == 1 }

    /// Overwrites the value of every `name=value` entry of the process's environment with
    /// zero bytes, in place: the entries the kernel placed at start are what
    /// `/proc/PID/environ` shows for the process's whole life, and `unsetenv` would only drop
    /// the pointer to them. Returns how many entries were overwritten; afterwards `getenv(name)`
    /// gives an empty string.
    @discardableResult
    public static func eraseEnvironmentValue(_ name: String) -> Int {
        let prefix = Array((name + "=").utf8)
        var erased = 0
        var cursor = environ
        while let entry = cursor.pointee {
            let matches = prefix.indices.allSatisfy { UInt8(bitPattern: entry[$0]) == prefix[$0] }
            if matches {
                let value = entry + prefix.count
                memset(value, 0, strlen(value))
                erased += 1
            }
            cursor += 1
        }
        return erased
    }

    /// A sealed in-memory file holding `bytes`, positioned at its start: a read-only copy to
    /// hand to a less trusted process, which can neither change it nor see where it came from.
    public static func sealedMemoryFile(named name: String, _ bytes: [UInt8]) throws(SystemCallError) -> Int32 {
        let fd = try valueOrErrno("memfd_create", name) { vpn_sealable_memory_file(name) }
        do {
            var offset = 0
            while offset < bytes.count {
                offset += try valueOrErrno("write", name) { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) } }
            }
            _ = try valueOrErrno("fcntl F_ADD_SEALS", name) { vpn_seal_memory_file(fd) }
            _ = try valueOrErrno("lseek", name) { lseek(fd, 0, SEEK_SET) }
            return fd
        } catch {
            _ = close(fd)
            throw error
        }
    }
}
