#if canImport(Glibc)
import Glibc
#endif
import Config
import Supervisor
import NodeBoot
import DstackAgent
import Netlink
import SystemCalls
import WireGuard
import WireGuardModel

/// `vpn-init status [--json]` and `vpn-init health [--max-handshake-age S]`: read the live
/// interface (kernel through netlink, wireguard-go through its UAPI socket) from inside the
/// container's namespaces, e.g. with `docker exec`.
enum StatusCommand {
    static func status(_ arguments: [String]) -> ExitCode {
        let parsed = CommandOptions.parse("status", arguments, flags: ["--json"])
        guard case .options(let interface, let options) = parsed else { return parsed.exitCode }
        let json = options["--json"] != nil
        do {
            let backend = try WireGuardBackends.existing(interfaceName: interface)
            let device = try backend.device()
            let identity = identity(interface: interface)
            print(json ? StatusFormat.json(device, implementation: backend.implementation, identity: identity)
                       : StatusFormat.text(device, implementation: backend.implementation, identity: identity, now: wallClockSeconds()))
            return .success
        } catch {
            printError("vpn-init status: \(error)")
            return .failure
        }
    }

    static func health(_ arguments: [String]) -> ExitCode {
        let parsed = CommandOptions.parse("health", arguments, valued: ["--max-handshake-age"])
        guard case .options(let interface, let options) = parsed else { return parsed.exitCode }
        var maxAge: Int64?
        if let text = options["--max-handshake-age"] {
            guard let value = Int64(text), value > 0 else {
                return Help.usageError("health: --max-handshake-age needs a number of seconds > 0", exitNow: false)
            }
            maxAge = value
        }
        let links: Links
        do {
            links = try Links()
        } catch {
            printError("unhealthy: \(error)")
            return .failure
        }
        let verdict = Health.check(interface: interface, links: links, device: { () throws(SystemCallError) in
            try WireGuardBackends.existing(interfaceName: interface).device()
        }, maxHandshakeAge: maxAge, now: wallClockSeconds())
        if verdict.healthy { print(verdict.line) } else { printError(verdict.line) }
        return verdict.healthy ? .success : .failure
    }

    /// Who the node is: what its init recorded at boot (which works through `nsenter`, without
    /// the container's environment), else the environment (as `docker exec` passes it), asking
    /// the guest agent for the ids in dstack mode. An agent that does not answer leaves the ids
    /// out, with a warning: the interface is still shown.
    private static func identity(interface: String) -> NodeIdentity {
        if let recorded = NodeIdentity.recorded(interface: interface) { return recorded }
        let environment = ProcessEnvironment.current()
        let source: KeySource = environment["VPN_KEY_SOURCE"]?.lowercased() == "dstack" ? .dstack : .file
        var identity = NodeIdentity(nodeName: environment["VPN_NODE_NAME"] ?? hostName(), keySource: source)
        guard source == .dstack else { return identity }
        do {
            let endpoint = try environment["DSTACK_SIMULATOR_ENDPOINT"].map { (text) throws(HTTPError) in try AgentEndpoint(parsing: text) }
            let config = VPNConfig(addresses: [], agentEndpoint: endpoint)
            let info = try DstackMode.agent(config, timeout: 5).info()
            identity.appID = info.appID
            identity.instanceID = info.instanceID
        } catch {
            printError("vpn-init status: app_id and instance_id unknown: \(error)")
        }
        return identity
    }
}
