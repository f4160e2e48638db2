import NIOCore

/// The backpressure both sides of a connection share: a side reads only while the side its
/// data goes to can take more (its channel is writable); otherwise the read is held, and let go
/// when that side's writability comes back. With auto-read off, a held read means the kernel's
/// socket buffer fills and the sender slows down (TCP) or drops (UDP), instead of memory growing.
struct ReadGate {
    private var held = false

    /// Reads now if `peerWritable`, else holds the read.
    mutating func read(_ context: ChannelHandlerContext, peerWritable: Bool) {
        if peerWritable {
            context.read()
        } else {
            held = true
        }
    }

    /// Lets a held read go once `peerWritable`.
    mutating func resume(_ context: ChannelHandlerContext?, peerWritable: Bool) {
        guard held, peerWritable, let context else { return }
        held = false
        context.read()
    }
}
