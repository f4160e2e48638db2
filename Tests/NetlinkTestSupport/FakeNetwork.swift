import Netlink
import NetlinkSocket
import NetlinkTestSupport
import SystemCalls
import WireGuardModel

/// A fake kernel with links and (optionally) WireGuard, behind two fake sockets: `route`
/// (rtnetlink) and `generic` (generic netlink). It applies requests the way Linux does, message
/// by message (drivers/net/wireguard/netlink.c `wg_set_device`), so a wrong split shows up as a
/// wrong device, and it answers dumps split at `dumpLimit` bytes. `answerRoute` and
/// `answerGeneric` are its answers, for a test that puts its own transport in front of them.
public final class FakeNetwork {
    public var hasWireGuard: Bool
    public var links: [LinkAttributes] = [LinkAttributes(index: 1, flags: 1, name: "lo", mtu: 65536)]
    public var devices: [Int32: WireGuardDevice] = [:]
    /// Which peer holds each allowed IP, per device (the kernel's allowed-IPs trie).
    private var owners: [Int32: [IPNetwork: WireGuardKey]] = [:]
    public var addresses: [(index: Int32, family: UInt8, address: [UInt8], prefixLength: UInt8)] = []
    public var routes: [(index: Int32, family: UInt8, destination: [UInt8], prefixLength: UInt8)] = []
    public var dumpLimit = WireGuardNetlink.defaultMessageLimit
    public let familyID: UInt16 = 0x1d
    private var nextIndex: Int32 = 2

    public init(hasWireGuard: Bool = true) {
        self.hasWireGuard = hasWireGuard
    }

    public private(set) lazy var route = FakeKernel(messagesPerDatagram: 2) { [unowned self] in self.answerRoute($0) }
    public private(set) lazy var generic = FakeKernel(messagesPerDatagram: 2) { [unowned self] in self.answerGeneric($0) }

    /// Adds a link directly, as another program would.
    @discardableResult
    public func addLink(_ name: String, kind: String?) -> LinkAttributes {
        let link = LinkAttributes(index: nextIndex, flags: 0, name: name, mtu: kind == "wireguard" ? 1420 : 1500, kind: kind)
        nextIndex += 1
        links.append(link)
        if kind == "wireguard" { devices[link.index] = WireGuardDevice(interfaceName: name) }
        return link
    }

    public func device(named name: String) -> WireGuardDevice? {
        links.first { $0.name == name }.flatMap { devices[$0.index] }
    }

    // MARK: rtnetlink

    public func answerRoute(_ request: NetlinkMessage) -> [FakeKernel.Reply] {
        let payload = request.payload
        guard payload.count >= 8 else { return [.error(22)] }
        switch RouteMessageType(rawValue: request.type) {
        case .newLink: return newLink(request)
        case .getLink:
            let name = linkAttributes(payload).name
            guard let link = links.first(where: { $0.name == name }) else { return [.error(19)] }
            return [.data(encode(link))]
        case .deleteLink:
            let index = payload.loadNative(Int32.self, at: 4)
            guard let position = links.firstIndex(where: { $0.index == index }) else { return [.error(19)] }
            links.remove(at: position)
            devices[index] = nil
            owners[index] = nil
            return [.acknowledge]
        case .newAddress:
            let index = payload.loadNative(Int32.self, at: 4)
            var attributes = AttributeDecoder(payload, from: 8)
            while attributes.next() {
                if attributes.type == RouteNetlink.AddressAttribute.local {
                    addresses.append((index, payload[0], attributes.bytes(), payload[1]))
                }
            }
            return [.acknowledge]
        case .newRoute:
            let (index, destination) = routeTarget(payload)
            routes.append((index, payload[0], destination, payload[1]))
            return [.acknowledge]
        case .deleteRoute:
            let (index, destination) = routeTarget(payload)
            guard let position = routes.firstIndex(where: { $0.0 == index && $0.2 == destination && $0.3 == payload[1] }) else {
                return [.error(3)]  // ESRCH
            }
            routes.remove(at: position)
            return [.acknowledge]
        default:
            return [.error(95)]
        }
    }

    /// The output interface and destination of a route request.
    private func routeTarget(_ payload: [UInt8]) -> (index: Int32, destination: [UInt8]) {
        var attributes = AttributeDecoder(payload, from: 12)
        var destination: [UInt8] = []
        var index: Int32 = 0
        while attributes.next() {
            if attributes.type == RouteNetlink.RouteAttribute.destination { destination = attributes.bytes() }
            if attributes.type == RouteNetlink.RouteAttribute.outputInterface { index = Int32(bitPattern: attributes.uint32()) }
        }
        return (index, destination)
    }

    private func newLink(_ request: NetlinkMessage) -> [FakeKernel.Reply] {
        let index = request.payload.loadNative(Int32.self, at: 4)
        let wanted = linkAttributes(request.payload)
        if index == 0 {
            if links.contains(where: { $0.name == wanted.name }) { return [.error(17)] }
            if wanted.kind == "wireguard" && !hasWireGuard { return [.error(95, message: "Unknown device type")] }
            addLink(wanted.name, kind: wanted.kind)
            return [.acknowledge]
        }
        guard let position = links.firstIndex(where: { $0.index == index }) else { return [.error(19)] }
        if wanted.mtu != 0 { links[position].mtu = wanted.mtu }
        let flags = request.payload.loadNative(UInt32.self, at: 8)
        let change = request.payload.loadNative(UInt32.self, at: 12)
        links[position].flags = links[position].flags & ~change | flags & change
        return [.acknowledge]
    }

    /// Name, MTU and kind from a link request's attributes.
    private func linkAttributes(_ payload: [UInt8]) -> LinkAttributes {
        var link = LinkAttributes(index: 0, flags: 0)
        var attributes = AttributeDecoder(payload, from: 16)
        while attributes.next() {
            switch attributes.type {
            case RouteNetlink.LinkAttribute.name: link.name = attributes.string()
            case RouteNetlink.LinkAttribute.mtu: link.mtu = attributes.uint32()
            case RouteNetlink.LinkAttribute.linkInfo:
                attributes.nested { info in
                    while info.next() { if info.type == RouteNetlink.LinkAttribute.infoKind { link.kind = info.string() } }
                }
            default: break
            }
        }
        return link
    }

    private func encode(_ link: LinkAttributes) -> NetlinkMessage {
        var attributes = AttributeEncoder(header: RouteNetlink.interfaceInfo(index: link.index, flags: link.flags))
        attributes.string(RouteNetlink.LinkAttribute.name, link.name)
        attributes.uint32(RouteNetlink.LinkAttribute.mtu, link.mtu)
        if let kind = link.kind {
            attributes.nested(RouteNetlink.LinkAttribute.linkInfo) { $0.string(RouteNetlink.LinkAttribute.infoKind, kind) }
        }
        return NetlinkMessage(type: RouteMessageType.newLink.rawValue, flags: [], payload: attributes.bytes)
    }

    // MARK: generic netlink

    public func answerGeneric(_ request: NetlinkMessage) -> [FakeKernel.Reply] {
        if request.type == GenericNetlink.controllerFamily {
            var attributes = AttributeDecoder(request.payload, from: GenericNetlink.headerLength)
            var name = ""
            while attributes.next() {
                if attributes.type == ControllerAttribute.familyName { name = attributes.string() }
            }
            guard name == WireGuardNetlink.familyName && hasWireGuard else { return [.error(2)] }
            return [.data(GenericNetlink.familyReply(GenericNetlinkFamily(id: familyID, name: name, version: 1), sequence: 0)), .acknowledge]
        }
        guard request.type == familyID, let message = try? WireGuardDeviceMessage(decoding: request) else { return [.error(22)] }
        guard let link = links.first(where: { $0.name == message.interfaceName || $0.index == Int32(message.interfaceIndex ?? 0) }),
              devices[link.index] != nil else { return [.error(19)] }
        switch message.command {
        case .getDevice:
            guard request.flags.contains(.dump),
                  let replies = try? WireGuardNetlink.getDeviceReplies(family: familyID, device: devices[link.index]!,
                                                                       interfaceIndex: UInt32(link.index), limit: dumpLimit) else {
                return [.error(95)]
            }
            return [.dump(replies)]
        case .setDevice:
            // Taken out of the dictionaries while changed, so they are not copied.
            var device = devices.removeValue(forKey: link.index)!
            var owner = owners.removeValue(forKey: link.index) ?? [:]
            apply(message, to: &device, owners: &owner)
            devices[link.index] = device
            owners[link.index] = owner
            return [.acknowledge]
        default:
            return [.error(95)]
        }
    }

    /// What the kernel does with one WG_CMD_SET_DEVICE message.
    private func apply(_ message: WireGuardDeviceMessage, to device: inout WireGuardDevice,
                       owners: inout [IPNetwork: WireGuardKey]) {
        if let key = message.privateKey {
            device.privateKey = key.isZero ? nil : key
            device.publicKey = key.isZero ? nil : key.publicKey()
        }
        if let port = message.listenPort { device.listenPort = port }
        if let mark = message.fwmark { device.fwmark = mark }
        if message.flags & WireGuardNumbers.replacePeersFlag != 0 {
            device.peers = []
            owners = [:]
        }
        for part in message.peers {
            var position = device.peers.firstIndex { $0.publicKey == part.publicKey }
            if part.flags & WireGuardNumbers.removePeerFlag != 0 {
                if let position {
                    device.peers[position].allowedIPs.forEach { owners[$0] = nil }
                    device.peers.remove(at: position)
                }
                continue
            }
            if position == nil {
                if part.flags & WireGuardNumbers.updateOnlyFlag != 0 { continue }
                device.peers.append(WireGuardPeerStatus(publicKey: part.publicKey))
                position = device.peers.count - 1
            }
            guard let index = position else { continue }
            if let key = part.presharedKey { device.peers[index].presharedKey = key.isZero ? nil : key }
            if let endpoint = part.endpoint { device.peers[index].endpoint = endpoint }
            if let seconds = part.persistentKeepalive { device.peers[index].persistentKeepalive = seconds }
            if part.flags & WireGuardNumbers.replaceAllowedIPsFlag != 0 {
                device.peers[index].allowedIPs.forEach { owners[$0] = nil }
                device.peers[index].allowedIPs = []
            }
            for network in part.allowedIPs.map(\.masked) {
                // An allowed IP belongs to one peer: adding it elsewhere moves it.
                if let holder = owners[network] {
                    if holder == part.publicKey { continue }
                    if let other = device.peers.firstIndex(where: { $0.publicKey == holder }) {
                        device.peers[other].allowedIPs.removeAll { $0 == network }
                    }
                }
                owners[network] = part.publicKey
                device.peers[index].allowedIPs.append(network)
            }
        }
    }
}
