import Netlink

extension WireGuardNetlink {
    /// The `WG_CMD_GET_DEVICE` dump replies a kernel sends for `device`, attributes in the
    /// kernel's order (drivers/net/wireguard/netlink.c), split at `limit` bytes with a peer's
    /// allowed IPs continuing in the next message. Fake kernels in tests answer with these;
    /// the messages lack the `NLMSG_DONE` that ends a dump.
    public static func getDeviceReplies(family: UInt16, device: WireGuardDevice, interfaceIndex: UInt32,
                                        limit: Int = defaultMessageLimit) throws(NetlinkEncodeError) -> [NetlinkMessage] {
        let payloads = try split(
            limit: limit,
            messageStart: { first in
                var attributes = AttributeEncoder(header: [WireGuardCommand.getDevice.rawValue, version, 0, 0])
                if first {
                    attributes.uint16(DeviceAttribute.listenPort, device.listenPort)
                    attributes.uint32(DeviceAttribute.fwmark, device.fwmark)
                    attributes.uint32(DeviceAttribute.interfaceIndex, interfaceIndex)
                    attributes.string(DeviceAttribute.interfaceName, device.interfaceName)
                    if let key = device.privateKey { attributes.append(DeviceAttribute.privateKey, key.bytes) }
                    if let key = device.publicKey { attributes.append(DeviceAttribute.publicKey, key.bytes) }
                }
                return attributes
            },
            peerCount: device.peers.count,
            peerHeader: { index, firstPart, attributes in
                let peer = device.peers[index]
                attributes.append(PeerAttribute.publicKey, peer.publicKey.bytes)
                guard firstPart else { return }
                attributes.append(PeerAttribute.presharedKey, peer.presharedKey?.bytes ?? [UInt8](repeating: 0, count: 32))
                var time = [UInt8]()
                time.appendNative(peer.latestHandshake ?? 0)
                time.appendNative(Int64(0))
                attributes.append(PeerAttribute.lastHandshakeTime, time)
                attributes.uint16(PeerAttribute.persistentKeepaliveInterval, peer.persistentKeepalive)
                attributes.uint64(PeerAttribute.txBytes, peer.txBytes)
                attributes.uint64(PeerAttribute.rxBytes, peer.rxBytes)
                attributes.uint32(PeerAttribute.protocolVersion, 1)
                if let endpoint = peer.endpoint, let address = socketAddress(endpoint) {
                    attributes.append(PeerAttribute.endpoint, address)
                }
            },
            allowedIPs: { device.peers[$0].allowedIPs },
            appendAllowedIP: { network, attributes in
                attributes.uint8(AllowedIPAttribute.prefixLength, UInt8(network.prefixLength))
                attributes.uint16(AllowedIPAttribute.family, UInt16(network.address.family))
                attributes.append(AllowedIPAttribute.address, network.address.bytes)
            })
        return payloads.map { NetlinkMessage(type: family, flags: .multipart, payload: $0) }
    }
}
