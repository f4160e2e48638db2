import Config
import NodeBoot
#if canImport(Glibc)
import Glibc
#endif

/// `vpn-init --help` and the help of each subcommand.
enum Help {
    static let overview = """
        vpn-init: PID 1 of the dstack-vpn image. Brings up a WireGuard tunnel from environment
        variables, supervises its helpers and an optional main command, and undoes it all on SIGTERM.

        USAGE:
          vpn-init [--] [CMD [ARGS...]]     run as init; CMD starts once the tunnel is ready
          vpn-init genkey                   print a new private key (base64), like `wg genkey`
          vpn-init pubkey                   read a private key on stdin, print its public key
          vpn-init public-key [--node NAME] print this node's public key (or, in dstack mode, node NAME's)
          vpn-init render                   print the WireGuard config boot would apply (wg-quick format)
          vpn-init status [--json]          show the live interface: keys, port, peers, handshakes, traffic
          vpn-init health [--max-handshake-age S]
                                            exit 0 when the tunnel is up (and every peer shook hands within S)
          vpn-init reload                   apply WG_PEERS_FILE again, live, and print the outcome
          vpn-init version                  print the version
          vpn-init help [COMMAND]           print this help, or a command's

        Configuration comes from WG_* and VPN_* environment variables (see README.md); an invalid
        value exits 78 with one line per problem naming the variable.

        EXIT CODES:
          0 clean shutdown   78 invalid configuration   69 WireGuard or the dstack guest agent unavailable
          64 bad command line   CMD's status when it exits (128+N if killed by signal N)   1 other failure
        """

    static let commands: [String: String] = [
        "genkey": """
            USAGE: vpn-init genkey

            Prints a new random Curve25519 private key in base64, clamped as `wg genkey` does.
            Keep it secret: store it with mode 0600.
            """,
        "pubkey": """
            USAGE: vpn-init pubkey < privatekey

            Reads a base64 private key on standard input and prints the matching public key, like
            `wg pubkey`. Exits 1 when the input is not a key.
            """,
        "public-key": """
            USAGE: vpn-init public-key [--node NAME]

            Prints this node's public key, as boot would set it: from the key file (created on
            first use, as boot does), WG_PRIVATE_KEY, or in dstack mode (VPN_KEY_SOURCE=dstack)
            derived by the guest agent for VPN_NODE_NAME. Give it to the nodes of other apps,
            which list this node with PUBLIC_KEY. With --node NAME (dstack mode only), prints the
            key of node NAME of the same app instead. Never prints a private key.
            Exit codes: 0, 78 invalid configuration, 69 guest agent unavailable, 1 other failure.
            """,
        "render": """
            USAGE: vpn-init render

            Validates the environment and prints, in wg-quick format, the WireGuard configuration
            boot would apply: [Interface] Address, ListenPort, MTU, PrivateKey, and a [Peer] per
            configured peer. The output contains the private key: treat it as a secret. In dstack
            mode (VPN_KEY_SOURCE=dstack) the derived key is left out, and a comment says so.
            Like boot, it generates $VPN_DATA_DIR/privatekey on first use; it changes nothing else.
            Peer keys given by PUBLIC_KEY_FILE must exist already (boot waits for them; render does not).
            Exit codes: 0, 78 invalid configuration or key file, 69 guest agent unavailable, 1 other failure.
            """,
        "status": """
            USAGE: vpn-init status [--json] [--interface NAME]

            Shows the live WireGuard interface (default $WG_INTERFACE, else wg0): its public key,
            listen port and implementation (kernel or userspace), and each peer's endpoint,
            allowed IPs, latest handshake and traffic. --json prints one object with the keys
            interface, implementation, public_key, listen_port, fwmark, node_name, key_source, in
            dstack mode app_id and instance_id (asked of the guest agent), and peers (public_key,
            endpoint, allowed_ips, latest_handshake as Unix seconds or null, rx_bytes, tx_bytes,
            persistent_keepalive). Never prints a private or preshared key.
            """,
        "health": """
            USAGE: vpn-init health [--max-handshake-age SECONDS] [--interface NAME]

            Exits 0 when the interface exists, is up and has its key and listen port; with
            --max-handshake-age, also when every peer shook hands within SECONDS. Otherwise exits 1
            with the reason on stderr. The image's Docker HEALTHCHECK runs it.
            """,
        "reload": """
            USAGE: vpn-init reload [--interface NAME]

            Makes the running vpn-init (of $WG_INTERFACE, else wg0) read WG_PEERS_FILE again, as
            SIGHUP or a change to the file does, and prints the outcome: the peers added, removed
            and changed (the others keep their sessions), or that nothing changed. An invalid file
            changes nothing: its problems are printed as FILE:LINE: VARIABLE: reason.
            Exit codes: 0 applied or unchanged, 78 file refused, 1 failed or no answer within 30 s.
            """,
        "version": "USAGE: vpn-init version\n\nPrints the version of vpn-init.",
        "help": "USAGE: vpn-init help [COMMAND]\n\nPrints the overview, or the help of COMMAND.",
    ]

    /// Prints the overview or a command's help to stdout.
    static func run(_ arguments: [String]) -> ExitCode {
        guard let name = arguments.first else {
            print(overview)
            return .success
        }
        guard let text = commands[name] else {
            return usageError("no help for unknown command \"\(name)\"", exitNow: false)
        }
        print(text)
        return .success
    }

    /// Reports a command-line mistake on stderr; exit code 64 (EX_USAGE).
    @discardableResult
    static func usageError(_ message: String, exitNow: Bool = true) -> ExitCode {
        printError("vpn-init: \(message)\nRun \"vpn-init --help\" for usage.")
        if exitNow { exit(ExitCode.usage.rawValue) }
        return .usage
    }
}
