#if canImport(Glibc)
import Glibc
#endif
import Config
import DstackAgent
import SystemCalls
import VPNLog
import WireGuard
import WireGuardModel

/// dstack mode (`VPN_KEY_SOURCE=dstack`): the node's identity comes from the dstack guest agent.
public enum DstackMode {
    /// Every call to the agent during one boot (or one command) shares this bound: a stuck or
    /// absent agent fails the boot within it.
    public static let agentTimeout = 10.0

    /// The agent to ask, at `DSTACK_SIMULATOR_ENDPOINT` or the first default socket that exists.
    public static func agent(_ config: VPNConfig, timeout: Double = agentTimeout) -> GuestAgent {
        GuestAgent(endpoint: AgentEndpoint.discover(configured: config.agentEndpoint, exists: Files.exists), timeout: timeout)
    }

    /// An agent failure as a boot failure: exit 69 (the service the key depends on is unavailable).
    static func failure(_ error: GuestAgentError) -> BootFailure {
        var line = "\(error)"
        if case .system(let failure) = error.error, failure.systemCall == "connect", failure.errno == ENOENT {
            line += " (mount the CVM's /var/run/dstack.sock into the container, or set DSTACK_SIMULATOR_ENDPOINT)"
        }
        return BootFailure(exitCode: .unavailable, line)
    }

    /// The node's private key, derived for `node`.
    static func privateKey(node: String, agent: GuestAgent) throws(BootFailure) -> WireGuardKey {
        do { return try DstackKeys.privateKey(node: node, agent: agent) } catch { throw failure(error) }
    }

    /// Asks the agent who this CVM is, and logs it with the name peers dial it by.
    static func identify(_ config: VPNConfig, agent: GuestAgent) throws(BootFailure) -> AgentInfo {
        let info: AgentInfo
        do { info = try agent.info() } catch { throw failure(error) }
        let port = config.tcpListen.map { String($0.port) } ?? "PORT"
        Log.info("dstack identity", ("app_id", info.appID), ("instance_id", info.instanceID), ("node_name", config.nodeName),
                 ("agent", agent.endpoint), ("gateway_name", "\(info.instanceID)-\(port).<gateway-domain>"))
        return info
    }

    /// The comment `render` and `wg0.conf` carry in place of a derived private key.
    public static let privateKeyNote = "derived by the dstack guest agent at boot (VPN_KEY_SOURCE=dstack); never written"
}
