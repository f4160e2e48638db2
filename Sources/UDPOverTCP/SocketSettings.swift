import NIOCore
import VPNLog

#if canImport(Glibc)
import Glibc
#endif

/// Socket options shared by udp2tcp and tcp2udp (Mullvad's `TcpOptions` plus defaults that suit
/// a VPN: TCP_NODELAY on, large UDP buffers).
public struct SocketSettings: Equatable, Sendable {
    /// `--recv-buffer`: SO_RCVBUF for TCP sockets, in bytes.
    public var tcpReceiveBuffer: Int?
    /// `--send-buffer`: SO_SNDBUF for TCP sockets, in bytes.
    public var tcpSendBuffer: Int?
    /// `--tcp-recv-timeout`: close a TCP connection that received nothing for this long.
    public var tcpReceiveTimeout: TimeAmount?
    /// `--fwmark`: SO_MARK for every socket (Linux).
    public var fwmark: UInt32?
    /// TCP_NODELAY: a WireGuard packet should leave at once, not wait for the next one.
    public var noDelay: Bool
    /// SO_RCVBUF / SO_SNDBUF requested for UDP sockets, so bursts are not dropped by the kernel.
    public var udpBuffer: Int

    public init(
        tcpReceiveBuffer: Int? = nil, tcpSendBuffer: Int? = nil, tcpReceiveTimeout: TimeAmount? = nil,
        fwmark: UInt32? = nil, noDelay: Bool = true, udpBuffer: Int = 4 << 20
    ) {
        self.tcpReceiveBuffer = tcpReceiveBuffer
        self.tcpSendBuffer = tcpSendBuffer
        self.tcpReceiveTimeout = tcpReceiveTimeout
        self.fwmark = fwmark
        self.noDelay = noDelay
        self.udpBuffer = udpBuffer
    }
}

/// Socket option names NIO does not spell out.
enum ExtraSocketOption {
    // https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/socket.h
    static let mark = NIOBSDSocket.Option(rawValue: 36)  // SO_MARK
    static let sendBufferForce = NIOBSDSocket.Option(rawValue: 32)  // SO_SNDBUFFORCE
    static let receiveBufferForce = NIOBSDSocket.Option(rawValue: 33)  // SO_RCVBUFFORCE
}

/// Bytes one datagram read slot holds: any UDP payload fits, so none is ever truncated.
let datagramSlotSize = 65_536

/// The write buffer water marks of both halves of a session: above `high` the other half stops
/// reading until the buffer drains below `low`.
let forwardingWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 1 << 20)

extension SocketSettings {
    /// Applies TCP options to a socket that is not connected yet (listening or connecting).
    func applyTCP(to channel: Channel) throws {
        guard let options = channel.syncOptions else { return }
        try options.setOption(.tcpOption(.tcp_nodelay), value: noDelay ? 1 : 0)
        if let size = tcpReceiveBuffer { try options.setOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(clamping: size)) }
        if let size = tcpSendBuffer { try options.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(clamping: size)) }
        try applyMark(to: channel)
    }

    /// Sets SO_MARK when `--fwmark` was given.
    func applyMark(to channel: Channel) throws {
        guard let mark = fwmark, let options = channel.syncOptions else { return }
        try options.setOption(.socketOption(ExtraSocketOption.mark), value: SocketOptionValue(Int32(bitPattern: mark)))
    }

    /// Prepares a datagram socket: large buffers, batched reads, SO_MARK.
    func applyUDP(to channel: Channel, vectorReads: Int) throws {
        guard let options = channel.syncOptions else { return }
        try options.setOption(.datagramVectorReadMessageCount, value: vectorReads)
        try options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: datagramSlotSize * vectorReads))
        try options.setOption(.writeBufferWaterMark, value: forwardingWaterMark)
        requestBuffer(options, force: ExtraSocketOption.receiveBufferForce, plain: .so_rcvbuf)
        requestBuffer(options, force: ExtraSocketOption.sendBufferForce, plain: .so_sndbuf)
        try applyMark(to: channel)
    }

    /// The FORCE variant passes net.core.rmem_max / wmem_max but needs CAP_NET_ADMIN; without it
    /// the plain option gets what the limit allows. Either way a failure is not fatal. A buffer
    /// already that large (an inherited socket a privileged parent prepared) is left alone.
    private func requestBuffer(_ options: NIOSynchronousChannelOptions, force: NIOBSDSocket.Option, plain: NIOBSDSocket.Option) {
        let size = SocketOptionValue(clamping: udpBuffer)
        if let current = try? options.getOption(.socketOption(plain)), current >= size { return }
        if (try? options.setOption(.socketOption(force), value: size)) != nil { return }
        do {
            try options.setOption(.socketOption(plain), value: size)
        } catch {
            Log.debug("UDP socket buffer not enlarged", ("requested", udpBuffer), ("error", error))
        }
    }
}
