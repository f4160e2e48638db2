#if canImport(Glibc)
import Glibc
#endif
import Config
import DstackAgent
import Supervisor
import SystemCalls
import VPNLog

/// Who the running node is (its name, key source and, in dstack mode, the app and instance ids),
/// kept by init mode in `/run/vpn-init/<interface>.identity` (JSON) for `vpn-init status`: a tool run
/// with `nsenter` has none of the container's environment, and should not have to ask the guest
/// agent again. The file holds no secret (mode 0644); it is removed at shutdown.
public struct NodeIdentity: Equatable {
    public var nodeName: String
    public var keySource: KeySource
    public var appID: String?
    public var instanceID: String?

    public static let directory = "/run/vpn-init"

    static func path(interface: String, directory: String = directory) -> String { "\(directory)/\(interface).identity" }

    /// One JSON object.
    public var text: String {
        var fields = [("node_name", nodeName), ("key_source", keySource.rawValue)]
        if let appID { fields.append(("app_id", appID)) }
        if let instanceID { fields.append(("instance_id", instanceID)) }
        return "{" + fields.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// Reads what `text` writes; nil when the bytes are not such an object.
    public init?(parsing bytes: [UInt8]) {
        guard let object = try? JSONValue.parse(bytes), let name = object["node_name"]?.string,
              let source = object["key_source"]?.string.flatMap(KeySource.init(rawValue:)) else { return nil }
        self.init(nodeName: name, keySource: source, appID: object["app_id"]?.string, instanceID: object["instance_id"]?.string)
    }

    public init(nodeName: String, keySource: KeySource, appID: String? = nil, instanceID: String? = nil) {
        self.nodeName = nodeName
        self.keySource = keySource
        self.appID = appID
        self.instanceID = instanceID
    }

    /// The running node's identity: `VPN_NODE_NAME` (else the host name), the key source, and
    /// what the agent said at boot.
    init(settings: BootSettings) {
        self.init(nodeName: settings.config.nodeName ?? hostName(), keySource: settings.config.keySource,
                  appID: settings.agentInfo?.appID, instanceID: settings.agentInfo?.instanceID)
    }

    /// Writes the file and registers its removal with `supervisor`. A failure is logged, not
    /// fatal: only `status` reads it.
    func record(interface: String, supervisor: any BootHost, directory: String = Self.directory) {
        let path = Self.path(interface: interface, directory: directory)
        supervisor.addTeardown("identity file") { unlink(path) }
        do {
            try Files.makeDirectories(directory, mode: 0o755)
            try Files.writeAtomically(path, Array(text.utf8), mode: 0o644)
        } catch {
            Log.warn("cannot record the node identity for status", ("path", path), ("error", error))
        }
    }

    /// The recorded identity of the node running `interface`, if any.
    public static func recorded(interface: String) -> NodeIdentity? {
        guard let bytes = try? Files.read(path(interface: interface), limit: 4096) else { return nil }
        return NodeIdentity(parsing: bytes)
    }
}

/// The host name (a container's default node name).
public func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
    return String(cString: buffer)
}
