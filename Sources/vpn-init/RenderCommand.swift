import Config
import VPNLog

/// `vpn-init render`: the wg-quick form of what boot would apply.
enum RenderCommand {
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return Help.run(["render"]) }
        guard arguments.isEmpty else { return Help.usageError("render takes no arguments", exitNow: false) }
        do {
            let settings = try Boot.prepare(environment: environmentDictionary(), exportPublicKey: false)
            let keys = try PeerKeys.load(settings.config.peers, wait: 0)
            print(settings.config.quickConfig(privateKey: settings.privateKey, peerKeys: keys).render(), terminator: "")
            return 0
        } catch {
            error.log()
            return error.exitCode
        }
    }
}
