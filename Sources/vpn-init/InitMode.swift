// vpn-init as a container's PID 1.
//
// main.swift calls `InitMode.run(command:)` for every invocation that is not a subcommand (such
// as `genkey` or `render`), with the main command: the arguments after an optional leading `--`.
// The arguments come from ProcessArguments (argv as the kernel passed it), never from
// /proc/self/cmdline, so a subcommand run through `nsenter -m` cannot turn into init mode.
//
// It never returns: it exits with 0 after a SIGTERM/SIGINT shutdown, the main command's status
// when that exits on its own (128+N when killed by signal N), or Boot's exit code on failure.
//
// It wires the real system into the boot sequence (NodeBoot): the supervisor, created before
// boot, is the `BootHost` that runs children and the undo steps, and `LinuxSystem` gives the
// netlink sockets, sysctls and TUN devices. docs/ARCHITECTURE.md describes the order.

import Config
import NodeBoot
import Supervisor
import SystemCalls
import VPNLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum InitMode {
    /// Runs init mode with `command` (empty: no main command) and exits with its outcome.
    static func run(command: [String]) -> Never {
        // Before anything else, and before any thread exists, so every thread inherits the mask:
        // a SIGTERM arriving during boot waits for the loop instead of being lost.
        let blocked: sigset_t
        do {
            blocked = try InitSignals.blockAllButFaults()
        } catch {
            fail("cannot block signals", error)
        }
        ProcessEnvironment.ensureStandardStreams()
        // PID 1 holds the private key from now on: no core dump of it, and no reading of its
        // memory through ptrace or /proc without CAP_SYS_PTRACE.
        do { try ProcessHardening.makeNotDumpable() } catch { Log.warn("cannot make vpn-init non-dumpable", ("error", error)) }
        if getpid() != 1 {
            // Not a container's init: still collect orphans of our own children.
            do { try InitSignals.becomeSubreaper() } catch {
                Log.warn("cannot become subreaper", ("error", error))
            }
        }
        let signals: SignalReader
        do {
            signals = try SignalReader(signals: blocked)
        } catch {
            fail("cannot read signals", error)
        }

        // The supervisor exists before boot, so boot steps can start children and register
        // teardowns; a failed boot then stops and undoes them like a shutdown.
        let supervisor = Supervisor(configuration: .init(), signals: signals)
        let environment = ProcessEnvironment.current()
        // An inline key leaves vpn-init's own environment block (what /proc/1/environ shows for
        // the process's whole life) and is not passed on to the main command.
        ProcessHardening.eraseEnvironmentValue(VPNConfig.inlinePrivateKeyVariable)
        let childEnvironment = environment.filter { $0.key != VPNConfig.inlinePrivateKeyVariable }
        let settings: BootSettings
        let tunnel: Tunnel
        // The peers file as it is before boot reads it: a change during boot is applied after.
        let peersFileStamp = environment["WG_PEERS_FILE"].flatMap(Files.stamp)
        do {
            settings = try Boot.prepare(environment: environment)
            supervisor.configuration.shutdownGrace = .milliseconds(Int64((settings.shutdownGrace * 1000).rounded()))
            tunnel = try Boot.bringUp(settings, host: supervisor, system: LinuxSystem())
        } catch {
            error.log()
            supervisor.requestShutdown(reason: "boot failed", exitCode: error.exitCode.rawValue)
            exit(supervisor.run())
        }

        let config = settings.config
        // Live peers: SIGHUP, `vpn-init reload` and changes to WG_PEERS_FILE apply its peers.
        let reload = PeerReload(environment: environment, settings: settings, tunnel: tunnel, host: supervisor,
                                runtimeDirectory: NodeIdentity.directory, bootStamp: peersFileStamp)
        reload.start()
        var metrics: MetricsServer?
        if let address = config.metricsListen {
            do {
                metrics = try Boot.startMetrics(address, settings: settings, tunnel: tunnel, reload: reload, host: supervisor,
                                                version: vpnInitVersion)
                Log.info("metrics listening", ("address", address))
            } catch {
                Log.error("cannot listen for metrics", ("variable", "VPN_METRICS_LISTEN"), ("address", address), ("error", error))
                supervisor.requestShutdown(reason: "boot failed", exitCode: ExitCode.failure.rawValue)
                exit(supervisor.run())
            }
        }
        if !command.isEmpty {
            supervisor.startMain(arguments: command, environment: childEnvironment)
        }
        Log.info(
            "ready", ("interface", config.interfaceName),
            ("address", config.addresses.map(\.description).joined(separator: ",")),
            ("public_key", settings.privateKey.publicKey().base64), ("peers", config.peers.count),
            ("implementation", tunnel.backend.implementation.rawValue), ("key_source", config.keySource.rawValue),
            ("node_name", config.nodeName)
        )
        let status = withExtendedLifetime((tunnel, reload, metrics)) { supervisor.run() }
        exit(status)
    }

    private static func fail(_ message: String, _ error: any Error) -> Never {
        Log.error(message, ("error", error))
        exit(ExitCode.failure.rawValue)
    }
}
