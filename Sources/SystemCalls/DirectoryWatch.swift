#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Watches one directory with inotify for files written or put in place: a file closed after
/// writing, moved in (an atomic rename, as a sidecar writes), moved out, or deleted. Creation
/// is not an event: a file just created may be half written (its close after writing is). The
/// descriptor is non-blocking and close-on-exec, for a poll loop; `drain` reads what happened.
///
/// The directory is watched, not the file: a file replaced by a rename is a new inode, which a
/// watch on the old one would never report.
public final class DirectoryWatch {
    /// The inotify descriptor: readable when something happened.
    public let fileDescriptor: Int32
    public let directory: String

    public init(directory: String) throws(SystemCallError) {
        fileDescriptor = try valueOrErrno("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        self.directory = directory
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)
        do {
            _ = try valueOrErrno("inotify_add_watch", directory) { inotify_add_watch(fileDescriptor, directory, mask) }
        } catch {
            _ = close(fileDescriptor)
            throw error
        }
    }

    deinit { _ = close(fileDescriptor) }

    /// The names of the files something happened to since the last call, each once, in order.
    public func drain() -> [String] {
        var names: [String] = []
        // Room for many events: each is 16 bytes and its NUL-padded name (at most NAME_MAX + 1).
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return names }
            var offset = 0
            while offset + 16 <= count {
                // struct inotify_event: wd (4), mask (4), cookie (4), len (4), name[len].
                let length = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) })
                let nameBytes = buffer[(offset + 16)..<min(offset + 16 + length, count)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                if !name.isEmpty && !names.contains(name) { names.append(name) }
                offset += 16 + length
            }
        }
    }
}
