// The wire formats (udp-over-tcp framing, PROXY protocol headers) live in UDPOverTCPWire, which
// needs only NIOCore, so the fuzz targets in Fuzz/ build without the rest of NIO and NIOSSL.
// Users of UDPOverTCP see them as part of it.
@_exported import UDPOverTCPWire
