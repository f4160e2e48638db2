// The runtime alone: binds 127.0.0.1:PORT, says `listening`, and waits for SIGTERM. What
// nio-responder adds to it is NIO's.
import Glibc

let port = UInt16(CommandLine.arguments.dropFirst().first ?? "") ?? 9587
let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
var on: Int32 = 1
setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard bound == 0, listen(fd, 16) == 0 else { fatalError("cannot listen on 127.0.0.1:\(port)") }
print("listening")
fflush(nil)  // stdout is a pipe: the line must go now
while true { pause() }
