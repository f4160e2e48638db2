#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a system call, retrying it while it fails with `EINTR` when `retryOnInterrupt` is set.
/// Never use the retry for `close`: the descriptor is gone even when it reports `EINTR`.
@inline(__always)
public func valueOrErrno<T: FixedWidthInteger>(
    _ call: String, _ object: String = "", retryOnInterrupt: Bool = true, _ body: () -> T
) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = currentErrno()
        if code == EINTR && retryOnInterrupt { continue }
        throw SystemCallError(call, object, errno: code)
    }
}

/// Small file-system operations with errors that name the call and the path.
public enum Files {
    /// Reads a whole regular file (at most `limit` bytes; a larger file is `EFBIG`).
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemCallError) -> [UInt8] {
        let fd = try valueOrErrno("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try valueOrErrno("read", path) {
                chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw SystemCallError("read", path, errno: EFBIG) }
        }
    }

    /// `stat` of a path, or nil when it does not exist.
    public static func status(_ path: String) throws(SystemCallError) -> stat? {
        var info = stat()
        if stat(path, &info) == 0 { return info }
        let code = currentErrno()
        if code == ENOENT { return nil }
        throw SystemCallError("stat", path, errno: code)
    }

    /// Whether the path itself is a symbolic link.
    public static func isSymbolicLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// Whether something exists at the path (errors other than ENOENT count as existing).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 || currentErrno() != ENOENT
    }

    /// Creates a directory and its missing parents with `mode`; existing ones are left as they are.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(SystemCallError) {
        if path.isEmpty || exists(path) { return }
        let parent = directory(of: path)
        if parent != path { try makeDirectories(parent, mode: 0o755) }
        if mkdir(path, mode) != 0 && currentErrno() != EEXIST {
            throw SystemCallError.current("mkdir", path)
        }
    }

    /// Changes a path's permission bits.
    public static func setMode(_ path: String, _ mode: mode_t) throws(SystemCallError) {
        _ = try valueOrErrno("chmod", path) { chmod(path, mode) }
    }

    /// The directory part of a path (`.` when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Writes `bytes` to `path` atomically: a temporary file beside it is written, flushed
    /// (`fsync`), given `mode` and renamed over the path, then the directory is flushed, so a
    /// crash leaves either the old file or the whole new one, never a partial one.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemCallError) {
        let temporary = "\(directory(of: path))/.\(baseName(of: path)).tmp-\(getpid())"
        let fd = try valueOrErrno("open", temporary) {
            open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        }
        do {
            _ = try valueOrErrno("fchmod", temporary) { fchmod(fd, mode) }
            var offset = 0
            while offset < bytes.count {
                let written = try valueOrErrno("write", temporary) {
                    bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                }
                offset += written
            }
            _ = try valueOrErrno("fsync", temporary) { fsync(fd) }
        } catch {
            _ = close(fd)
            _ = unlink(temporary)
            throw error
        }
        _ = close(fd)
        do {
            _ = try valueOrErrno("rename", path) { rename(temporary, path) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        try syncDirectory(directory(of: path))
    }

    /// Flushes a directory's entries to disk (after a rename in it).
    public static func syncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try valueOrErrno("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = close(fd) }
        _ = try valueOrErrno("fsync", path) { fsync(fd) }
    }

    /// The last component of a path.
    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
