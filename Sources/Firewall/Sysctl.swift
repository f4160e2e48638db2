import FirewallRules
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemCalls

/// A kernel setting under /proc/sys and the value it should have, e.g. `net.ipv4.ip_forward=1`.
public struct Sysctl: Hashable, Sendable, CustomStringConvertible {
    /// The dotted name, e.g. `net.ipv4.ip_forward`.
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `net.ipv4.ip_forward=1`, as compose's `sysctls:` and `sysctl -w` take it.
    public var description: String { "\(name)=\(value)" }

    /// The file under `root` (normally /proc/sys) holding the setting.
    public func path(root: String) -> String {
        "\(root)/\(name.split(separator: ".").joined(separator: "/"))"
    }

    /// `net.ipv4.ip_forward=1`: route packets between interfaces.
    public static let ipv4Forwarding = Sysctl("net.ipv4.ip_forward", "1")
    /// `net.ipv4.conf.all.src_valid_mark=1`: reverse-path checks honour the fwmark (what
    /// wg-quick sets when WireGuard's packets are marked).
    public static let sourceValidMark = Sysctl("net.ipv4.conf.all.src_valid_mark", "1")
    /// `net.ipv6.conf.all.forwarding=1`.
    public static let ipv6Forwarding = Sysctl("net.ipv6.conf.all.forwarding", "1")

    /// The settings forwarding through the VPN needs.
    public static func forwarding(ipv6: Bool, fwmark: Bool) -> [Sysctl] {
        [ipv4Forwarding] + (fwmark ? [sourceValidMark] : []) + (ipv6 ? [ipv6Forwarding] : [])
    }
}

/// Reads and writes settings: /proc/sys, or a fake in tests.
public protocol SysctlAccess {
    /// The current value, without the trailing newline.
    func read(_ sysctl: Sysctl) throws(SystemCallError) -> String
    /// Writes `sysctl.value`.
    func write(_ sysctl: Sysctl) throws(SystemCallError)
}

/// Settings as files under a directory, /proc/sys by default.
public struct ProcSysctl: SysctlAccess {
    public var root: String

    public init(root: String = "/proc/sys") {
        self.root = root
    }

    public func read(_ sysctl: Sysctl) throws(SystemCallError) -> String {
        var text = Substring(String(decoding: try Files.read(sysctl.path(root: root), limit: 4096), as: UTF8.self))
        while text.last?.isWhitespace == true { text.removeLast() }
        while text.first?.isWhitespace == true { text.removeFirst() }
        return String(text)
    }

    public func write(_ sysctl: Sysctl) throws(SystemCallError) {
        let path = sysctl.path(root: root)
        let fd = try valueOrErrno("open", path) { open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY) }
        defer { _ = close(fd) }
        let bytes = Array("\(sysctl.value)\n".utf8)
        let written = try valueOrErrno("write", path) {
            bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
        guard written == bytes.count else {
            throw SystemCallError("write", path, errno: EIO, detail: "wrote \(written) of \(bytes.count) bytes")
        }
    }
}

/// Settings that could not be given their values. When /proc/sys is read-only (Docker mounts it
/// so unless the service sets `sysctls:`), the description says which compose line is needed.
public struct SysctlError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The settings that are not as wanted.
    public var sysctls: [Sysctl]
    /// Why the first of them could not be set.
    public var cause: SystemCallError

    public init(sysctls: [Sysctl], cause: SystemCallError) {
        self.sysctls = sysctls
        self.cause = cause
    }

    /// Whether the container may not write /proc/sys (read-only mount or no privilege).
    public var isReadOnly: Bool { [EROFS, EACCES, EPERM].contains(cause.errno) }

    /// `sysctls: ["net.ipv4.ip_forward=1"]`: the compose line that sets them for the container.
    public var composeLine: String {
        "sysctls: [" + sysctls.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    public var description: String {
        let names = sysctls.map(\.description).joined(separator: ", ")
        guard isReadOnly else { return "cannot set \(names): \(cause)" }
        return "cannot set \(names): \(cause); /proc/sys is read-only in this container: add \(composeLine) to its compose service"
    }
}

public enum Sysctls {
    /// Gives each setting its value, writing only those that differ; returns the ones written.
    /// Every setting is tried; the error lists all that could not be set.
    @discardableResult
    public static func apply(_ wanted: [Sysctl], using access: some SysctlAccess) throws(SysctlError) -> [Sysctl] {
        var written: [Sysctl] = []
        var failed: [Sysctl] = []
        var cause: SystemCallError?
        for sysctl in wanted {
            do {
                if try access.read(sysctl) == sysctl.value { continue }
                try access.write(sysctl)
                written.append(sysctl)
            } catch {
                failed.append(sysctl)
                if cause == nil { cause = error }
            }
        }
        if let cause { throw SysctlError(sysctls: failed, cause: cause) }
        return written
    }
}
