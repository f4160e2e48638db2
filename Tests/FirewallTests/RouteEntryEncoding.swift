import Firewall
import FirewallRules
import Netlink

extension RouteEntry {
    /// The `RTM_NEWROUTE` message a kernel sends for this route in a dump.
    func encoded() -> NetlinkMessage {
        // rtm_table holds ids below 256; larger ones read RT_TABLE_COMPAT (252) there.
        var header = [family, destinationLength, 0, 0, UInt8(table < 256 ? table : 252),
                      RouteNetlink.protocolBoot, RouteNetlink.scopeUniverse, type]
        header.appendNative(UInt32(0))
        var attributes = AttributeEncoder(header: header)
        attributes.uint32(RouteNetlink.RouteAttribute.table, table)
        if priority != 0 { attributes.uint32(RouteNetlink.RouteAttribute.priority, priority) }
        if outputInterfaces.count == 1 {
            attributes.uint32(RouteNetlink.RouteAttribute.outputInterface, UInt32(bitPattern: outputInterfaces[0]))
        } else if !outputInterfaces.isEmpty {
            var hops = [UInt8]()
            for index in outputInterfaces {
                hops.appendNative(UInt16(8))
                hops += [0, 0]
                hops.appendNative(index)
            }
            attributes.append(RouteNetlink.RouteAttribute.multipath, hops)
        }
        return NetlinkMessage(type: RouteMessageType.newRoute.rawValue, flags: [], payload: attributes.bytes)
    }
}
