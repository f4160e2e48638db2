import Config
import Supervisor
import NodeBoot
import VPNLog

/// `vpn-init render`: the wg-quick form of what boot would apply.
enum RenderCommand {
    static func run(_ arguments: [String]) -> ExitCode {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return Help.run(["render"]) }
        guard arguments.isEmpty else { return Help.usageError("render takes no arguments", exitNow: false) }
        do {
            let config = try Boot.parse(environment: ProcessEnvironment.current())
            // Peer key files first: a missing or bad one fails before the node's key is created.
            let agent = config.keySource == .dstack ? DstackMode.agent(config) : nil
            let keys = try PeerKeys.load(config.peers, wait: 0, agent: agent)
            let settings = try Boot.prepare(config: config, exportPublicKey: false)
            let note = config.keySource == .dstack ? DstackMode.privateKeyNote : nil
            print(settings.config.quickConfig(privateKey: settings.privateKey, peerKeys: keys).render(privateKeyNote: note), terminator: "")
            return .success
        } catch {
            error.log()
            return error.exitCode
        }
    }
}
