#!/usr/bin/env python3
"""Turns scripts/bench's results.json into BENCHMARKS.md and the plots beside it.

Usage: report.py RESULTS.json BENCHMARKS.md PLOT_DIR

Every figure is the median of its runs; ratios compare medians measured in the same run.
The optimisation log (optimizations.md beside this file) is appended as it is.
"""
import json
import os
import statistics
import sys

MULLVAD_REFERENCE_MBIT = 1000.0  # the brief's figure for Mullvad's Rust udp-over-tcp here
MULLVAD_REFERENCE_LOSS = 10.0


def median(samples, bench, variant, metric, **match):
    values = [
        s["value"] for s in samples
        if s["bench"] == bench and s["variant"] == variant and s["metric"] == metric
        and all(s.get(k) == v for k, v in match.items())
    ]
    return (statistics.median(values), len(values)) if values else (None, 0)


def fmt(value, unit, digits=1):
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value:.{digits}f} MB"
    return f"{value:.{digits}f} {unit}".strip()


def ratio(ours, reference):
    if ours is None or reference in (None, 0):
        return None
    return ours / reference


def verdict(ok):
    return "—" if ok is None else ("yes" if ok else "**no**")


def summary_rows(samples):
    rows = []

    def add(figure, ours, ours_text, reference_text, ratio_value, target, ok, runs):
        rows.append((figure, ours_text, reference_text,
                     "—" if ratio_value is None else f"{ratio_value:.2f}x", target, verdict(ok), runs))

    for bench, path, reference_variant, reference_name, ours_variant in (
        ("boot_userspace", "userspace (netns)", "shell", "seed shell entrypoint", "vpn-init"),
        ("boot_kernel", "kernel (VM, TCG)", "wg-quick", "seed `wg-quick up`", "vpn-init-kernel"),
    ):
        ours, n = median(samples, bench, ours_variant, "ms")
        ref, _ = median(samples, bench, reference_variant, "ms")
        r = ratio(ours, ref)
        add(f"Boot to ready, {path}", ours, fmt(ours, "ms"), f"{fmt(ref, 'ms')} ({reference_name})", r,
            "≤ 0.5x", None if r is None else r <= 0.5, n)
        shutdown_bench = bench.replace("boot", "shutdown")
        ours, n = median(samples, shutdown_bench, ours_variant, "ms")
        ref, _ = median(samples, shutdown_bench, reference_variant, "ms")
        if bench == "boot_kernel":
            # Under TCG every instruction is emulated: only the ratio says something.
            add(f"Shutdown (SIGTERM to exit), {path}", ours, fmt(ours, "ms"), f"{fmt(ref, 'ms')} ({reference_name})",
                ratio(ours, ref), "< 100 ms on the host; TCG: ratio", None, n)
        else:
            add(f"Shutdown (SIGTERM to exit), {path}", ours, fmt(ours, "ms"), f"{fmt(ref, 'ms')} ({reference_name})",
                ratio(ours, ref), "< 100 ms", None if ours is None else ours < 100, n)
            pie = pie_cost(samples)
            if pie:
                add(f"Boot to ready, {path}, vpn-init position-independent vs `-no-pie`", pie["pie"],
                    f"{fmt(pie['pie'], 'ms', 2)} (PIE)", f"{fmt(pie['nopie'], 'ms', 2)} (the same vpn-init linked `-no-pie`)",
                    ratio(pie["pie"], pie["nopie"]), "(report)", None, pie["runs"])
                if pie["start_pie"] is not None:
                    add("Start of `vpn-init version`, position-independent vs `-no-pie`", pie["start_pie"],
                        f"{fmt(pie['start_pie'], 'ms', 2)} (PIE)", f"{fmt(pie['start_nopie'], 'ms', 2)} (`-no-pie`)",
                        ratio(pie["start_pie"], pie["start_nopie"]), "(report)", None, pie["start_runs"])
            dstack, n = median(samples, bench, "vpn-init-dstack", "ms")
            if dstack is not None:
                file_ms, _ = median(samples, bench, ours_variant, "ms")
                rss, _ = median(samples, "idle_rss_userspace", "vpn-init-dstack", "kB")
                file_rss, _ = median(samples, "idle_rss_userspace", ours_variant, "kB")
                answers = agent_rtt_ms(samples)
                add(f"Boot to ready, {path}, `VPN_KEY_SOURCE=dstack` vs `file`", dstack,
                    f"{fmt(dstack, 'ms')}, PID 1 idle RSS {fmt(rss and rss / 1024, 'MB')}",
                    f"{fmt(file_ms, 'ms')}, {fmt(file_rss and file_rss / 1024, 'MB')} (`file`)"
                    + ("" if answers is None else f"; the Python stand-in's Info + GetKey alone, after a second's idle as at boot: {answers:.1f} ms"),
                    ratio(dstack, file_ms), "(report)", None, n)

    peers = peers_figures(samples)
    if peers:
        largest = peers["largest"]
        ours, n = median(samples, "peers_boot", "vpn-init", "ms", peers=largest)
        ref, _ = median(samples, "peers_boot", "setconf", "ms", peers=largest)
        add(f"Boot to ready with {largest:,} peers (`WG_PEERS_FILE`), userspace", ours, fmt(ours, "ms"),
            f"{fmt(ref, 'ms')} (wireguard-go + `wg setconf` + `ip`)", ratio(ours, ref), "(report)", None, n)
        init, wg = peers["per_peers"].get("init_rss_kb"), peers["per_peers"].get("wg_rss_kb")
        if init:
            add(f"vpn-init's RSS per 1,000 peers (`VmRSS`, {peers['smallest']} → {largest:,} peers)", init["median"],
                f"{init['median']:+,.0f} KiB", "—" if not wg else f"wireguard-go, which holds the peers: {wg['median']:+,.0f} KiB",
                None, "(report)", None, init["runs"])
        if peers["reload"] == "available":
            ours, n = median(samples, "peers_reload", "vpn-init-sighup", "ms", peers=largest)
            ref, _ = median(samples, "peers_reload", "wg-syncconf", "ms", peers=largest)
            add(f"Reload, one of {largest:,} peers changed (SIGHUP to `peers reloaded`)", ours, fmt(ours, "ms"),
                f"{fmt(ref, 'ms')} (`wg syncconf`, spawn to exit)", ratio(ours, ref), "(report)", None, n)
        else:
            add(f"Reload, one of {largest:,} peers changed", None, "not available", "—", None, "(report)", None, 0)

    for size in (1400, 64, 9000):
        ours, n = median(samples, "udp_blast", "ours", "mbit", size=size)
        loss, _ = median(samples, "udp_blast", "ours", "loss_pct", size=size)
        raw, _ = median(samples, "udp_blast", "raw", "mbit", size=size)
        if ours is None:
            continue
        text = f"{fmt(ours, 'Mbit/s', 0)}, {loss:.1f}% loss"
        if size == 1400:
            r = ratio(ours, MULLVAD_REFERENCE_MBIT)
            add(f"udp2tcp→tcp2udp goodput, {size} B blast", ours, text,
                f"{MULLVAD_REFERENCE_MBIT:.0f} Mbit/s, {MULLVAD_REFERENCE_LOSS:.0f}% loss (Mullvad, brief); "
                f"raw UDP {fmt(raw, 'Mbit/s', 0)}", r, "≥ 1.5x, < 1% loss", r >= 1.5 and loss < 1, n)
            paced, paced_runs = median(samples, "udp_sweep", "ours", "mbit", rate=1500)
            paced_loss, _ = median(samples, "udp_sweep", "ours", "loss_pct", rate=1500)
            if paced is not None:
                r = ratio(paced, MULLVAD_REFERENCE_MBIT)
                add(f"udp2tcp→tcp2udp goodput, {size} B paced at 1500 Mbit/s", paced,
                    f"{fmt(paced, 'Mbit/s', 0)}, {paced_loss:.1f}% loss", f"{MULLVAD_REFERENCE_MBIT:.0f} Mbit/s (Mullvad, brief)",
                    r, "≥ 1.5x (all 1500 offered), < 1% loss", paced >= 0.98 * 1500 and paced_loss < 1, paced_runs)
        else:
            add(f"udp2tcp→tcp2udp goodput, {size} B", ours, text, f"raw UDP {fmt(raw, 'Mbit/s', 0)}",
                ratio(ours, raw), "(report)", None, n)
        for variant in sorted({s["variant"] for s in samples if s["bench"] == "udp_blast"} - {"raw", "ours"}):
            theirs, _ = median(samples, "udp_blast", variant, "mbit", size=size)
            their_loss, _ = median(samples, "udp_blast", variant, "loss_pct", size=size)
            if theirs is not None:
                add(f"… the same through {variant}", theirs, f"{fmt(theirs, 'Mbit/s', 0)}, {their_loss:.1f}% loss",
                    f"ours {fmt(ours, 'Mbit/s', 0)}, {loss:.1f}% loss", ratio(theirs, ours), "(compare)", None, n)

    udp, _ = median(samples, "tunnel", "udp", "mbit", mtu=1420)
    for transport, name in (("tcp", "TCP (udp2tcp/tcp2udp)"), ("tls", "TLS through haproxy")):
        ours, n = median(samples, "tunnel", transport, "mbit", mtu=1380, set="explicit")
        add(f"iperf3 over WireGuard over {name}, MTU 1380", ours, fmt(ours, "Mbit/s", 0),
            f"{fmt(udp, 'Mbit/s', 0)} (over UDP, MTU 1420)", ratio(ours, udp), "(report)", None, n)
    jumbo = jumbo_mtu(samples)
    if jumbo is not None:
        mtu, how = jumbo
        for transport, name, target in (("tcp", "TCP (udp2tcp/tcp2udp)", "(report)"),
                                        ("tls", "TLS 1.2 gateway", "≥ 1.5x")):
            ours, n = median(samples, "tunnel", transport, "mbit", mtu=mtu)
            r = ratio(ours, udp)
            add(f"{name} at the jumbo default vs UDP at 1420 (iperf3 over WireGuard, MTU {mtu}: {how})", ours,
                fmt(ours, "Mbit/s", 0), f"{fmt(udp, 'Mbit/s', 0)} (over UDP, MTU 1420)", r, target,
                None if r is None or target == "(report)" else r >= 1.5, n)
    kernel_udp, _ = median(samples, "tunnel_kernel", "udp", "mbit", mtu=1420)
    for mtu in sorted({s["mtu"] for s in samples if s["bench"] == "tunnel_kernel" and s["variant"] == "tcp"
                       and s["metric"] == "mbit"}):
        ours, n = median(samples, "tunnel_kernel", "tcp", "mbit", mtu=mtu)
        add(f"Kernel WireGuard (VM, TCG): TCP at MTU {mtu} vs UDP at 1420", ours, "ratio only (TCG)",
            "UDP, MTU 1420", ratio(ours, kernel_udp), "(report)", None, n)

    cuts = gateway_cuts(samples)
    probe = cuts.get("none")
    reference = ("" if probe is None else f"the probe alone, nothing cut (both ways): median {fmt(probe['median'], 'ms', 0)}, "
                 f"max {fmt(probe['max'], 'ms', 0)}; ") + "the issue: tunnel back within 3 s"
    for key, name in (("both", "Recovery after an unplanned gateway cut, pinging both ways (dstack mode)"),
                      ("one-way", "One-way recovery after a gateway cut, pinging from one side alone")):
        c = cuts.get(key)
        if c:
            add(name, c["median"], cut_text(c), reference, None, "(report)", None, c["count"])
    rotation = gateway_rotation(samples)
    if rotation:
        add(f"Planned rotation, `VPN_GATEWAY_CONNECTION_LIFETIME={rotation['lifetime']}`, pings at 5/s each way for "
            f"{rotation['seconds']} s", rotation["lost"],
            f"{rotation['lost']} of {rotation['sent']} lost; {rotation['rotations']} rotations (gateway sessions)",
            "—", None, "no loss", rotation["lost"] == 0, 1)

    ours, n = median(samples, "idle_rss_userspace", "vpn-init", "kB")
    ref, _ = median(samples, "idle_rss_userspace", "shell", "kB")
    add("Idle RSS of PID 1", ours, fmt(ours and ours / 1024, "MB"), f"{fmt(ref and ref / 1024, 'MB')} (shell PID 1)",
        ratio(ours, ref), "< 10 MB", None if ours is None else ours < 10 * 1024, n)
    ours, n = median(samples, "idle_rss_tree_userspace", "vpn-init", "kB")
    ref, _ = median(samples, "idle_rss_tree_userspace", "shell", "kB")
    add("Idle RSS, whole container (PID 1 + wireguard-go ...)", ours, fmt(ours and ours / 1024, "MB"),
        f"{fmt(ref and ref / 1024, 'MB')} (shell + sleep + wireguard-go)", ratio(ours, ref), "(report)", None, n)
    ours, n = median(samples, "udp_blast", "ours", "udp2tcp_hwm_kb", size=1400)
    add("udp2tcp peak RSS under a 1400 B blast", ours, fmt(ours and ours / 1024, "MB"), "—", None, "bounded", None, n)
    ours, n = median(samples, "image", "dstack-vpn", "bytes")
    ref, _ = median(samples, "image", "seed", "bytes")
    add("Image size", ours, fmt(ours and ours / 1e6, "MB"), f"{fmt(ref and ref / 1e6, 'MB')} (seed tools, same build)",
        ratio(ours, ref), "< 30 MB", None if ours is None else ours < 30e6, n)
    ours, n = median(samples, "orphans", "vpn-init", "cpu_ms")
    ref, _ = median(samples, "orphans", "tini", "cpu_ms")
    count = next((s.get("count") for s in samples if s["bench"] == "orphans"), 10000)
    add(f"PID 1 CPU time to reap {count} orphans", ours, fmt(ours, "ms"), f"{fmt(ref, 'ms')} (tini)",
        ratio(ours, ref), "(report)", None, n)
    cost = json_cost(samples)
    if cost:
        own, foundation = cost["own"], cost["foundation"]
        ratios = [r for r in (ratio(own["bytes"], foundation["bytes"]), ratio(own["ms"], foundation["ms"])) if r is not None]
        def added(c):
            start = "" if c["extra_ms"] is None else f", {c['extra_ms']:+.2f} ms start"
            return f"{kilobytes(c['extra_bytes'])}{start} ({fmt(c['ms'], 'ms', 2)})"
        rows.append(("vpn-init's JSON parser vs FoundationEssentials: size and start time", added(own),
                     f"{added(foundation)} (FoundationEssentials' JSONDecoder); no JSON: "
                     f"{fmt(cost['base']['bytes'] and cost['base']['bytes'] / 1e6, 'MB', 2)}, {fmt(cost['base']['ms'], 'ms', 2)}",
                     " / ".join(f"{r:.2f}x" for r in ratios) + (" (size / start)" if len(ratios) == 2 else ""),
                     "(report)", "—", cost["runs"]))
    return rows


def paired(samples, bench, first, second):
    """Per-run differences first minus second in BENCH's ms samples (the variants run interleaved,
    so run N of one is beside run N of the other)."""
    by_run = {}
    for s in samples:
        if s["bench"] == bench and s["variant"] in (first, second) and s["metric"] == "ms":
            by_run.setdefault(s.get("run"), {})[s["variant"]] = s["value"]
    return [r[first] - r[second] for r in by_run.values() if len(r) == 2]


def pie_cost(samples):
    """vpn-init (PIE) against vpn-init-nopie on the userspace path, or None: boot to ready and
    the start of `vpn-init version`, medians and per-run (per-round) differences."""
    pie, runs = median(samples, "boot_userspace", "vpn-init", "ms")
    nopie, nopie_runs = median(samples, "boot_userspace", "vpn-init-nopie", "ms")
    if pie is None or nopie is None:
        return None
    start_pie, rounds = median(samples, "start_userspace", "vpn-init", "ms")
    start_nopie, _ = median(samples, "start_userspace", "vpn-init-nopie", "ms")
    starts = next((s.get("starts") for s in samples if s["bench"] == "start_userspace"), None)
    return {"pie": pie, "nopie": nopie, "runs": min(runs, nopie_runs),
            "differences": paired(samples, "boot_userspace", "vpn-init", "vpn-init-nopie"),
            "start_pie": start_pie, "start_nopie": start_nopie,
            "start_runs": f"{rounds}×{starts}" if rounds and starts else rounds,
            "start_differences": paired(samples, "start_userspace", "vpn-init", "vpn-init-nopie")}


def spread(differences):
    return f"median {statistics.median(differences):+.2f} ms, from {min(differences):+.2f} to {max(differences):+.2f} ms"


def pie_text(samples):
    """The sentence under the boot table on what position independence costs, or None."""
    pie = pie_cost(samples)
    if not pie:
        return None
    text = "vpn-init is a position-independent executable, so PID 1's own image is randomised like its libraries, stack and heap: "
    if pie["start_differences"]:
        text += (f"ASLR kept, cost {statistics.median(pie['start_differences']):.2f} ms a start (`vpn-init version`, "
                 f"{fmt(pie['start_pie'], 'ms', 2)} against {fmt(pie['start_nopie'], 'ms', 2)} for the same sources linked "
                 f"`-no-pie`, vpn-init-nopie, in {pie['start_runs']} interleaved starts; per round "
                 f"{spread(pie['start_differences'])}), which a boot pays once. ")
    else:
        text += "ASLR kept. "
    text += (f"Boot to ready in the same run: {fmt(pie['pie'], 'ms', 2)} against {fmt(pie['nopie'], 'ms', 2)} "
             f"(ratio {pie['pie'] / pie['nopie']:.2f}x")
    text += ")"
    differences = pie["differences"]
    if differences:
        text += f"; run by run, PIE minus no-PIE: {spread(differences)}"
        if min(differences) < 0 < max(differences):
            text += ", so a boot's own variation hides the difference"
    return text + "."


def gateway_cuts(samples):
    """The gateway section's cut recoveries in ms: `both` (pinging both ways at once), `from-a`
    and `from-b` (pinging from one node alone) and `one-way` (those two together), each with its
    values, median, max, min, count and how many had no answer within the probe's limit."""
    groups = {}
    for s in samples:
        if s["bench"] == "gateway_cut" and s["metric"] == "ms":
            groups.setdefault(s["variant"], []).append(s)
    groups["one-way"] = groups.get("from-a", []) + groups.get("from-b", [])
    cuts = {}
    for key, group in groups.items():
        if group:
            values = [s["value"] for s in group]
            cuts[key] = {"values": values, "median": statistics.median(values), "max": max(values), "min": min(values),
                         "count": len(values), "timeouts": sum(1 for s in group if s.get("timeout"))}
    return cuts


def cut_text(c):
    text = f"median {fmt(c['median'], 'ms', 0)}, max {fmt(c['max'], 'ms', 0)}"
    if c["timeouts"]:
        text += f" ({c['timeouts']} of {c['count']} not back within {c['max'] / 1000:.0f} s, counted as that)"
    return text


def gateway_rotation(samples):
    """The rotation run: pings sent and lost (both directions), and the gateway sessions the
    nodes opened meanwhile, or None."""
    pings = [s for s in samples if s["bench"] == "gateway_rotation" and s["metric"] == "received"]
    sessions = {s["variant"]: s for s in samples if s["bench"] == "gateway_rotation" and s["metric"] == "connections"}
    if not pings or not sessions:
        return None
    sent = sum(s.get("sent", 0) for s in pings)
    received = sum(s["value"] for s in pings)
    any_session = next(iter(sessions.values()))
    return {"sent": sent, "lost": sent - received, "by_direction": {s["variant"]: (s.get("sent", 0), s["value"]) for s in pings},
            "by_node": {node: s["value"] for node, s in sorted(sessions.items())},
            "rotations": " + ".join(f"{s['value']:.0f}" for _, s in sorted(sessions.items())),
            "seconds": any_session.get("seconds"), "lifetime": any_session.get("lifetime")}


def gateway_lines(samples):
    """The gateway section's table and what its figures mean."""
    cuts = gateway_cuts(samples)
    rotation = gateway_rotation(samples)
    if not cuts and not rotation:
        return []
    lines = ["", "## Gateway cuts and planned rotation (dstack mode)", "",
             "Two vpn-init nodes in dstack mode (keys from their guest-agent stand-ins, peers by `WG_PEER_<N>_NODE` and "
             "`WG_PEER_<N>_GATEWAY`, both listening with `WG_TCP_LISTEN` and both dialing; wireguard-go) that reach each "
             "other only through haproxy standing in for the dstack gateway (TLS 1.2, routed by SNI), in scripts/test-dstack's "
             "topology. A cut closes every session of both backends at once through haproxy's runtime API, each time after "
             "the connections have lived more than 10 s. The time runs from the moment the command is sent until a ping "
             "is answered: pingers wait in the nodes' namespaces, are released when the API has answered and then ping "
             "every 10 ms, so the figure includes the API's answer, the release and up to 10 ms of polling. The same "
             "probe after a command that cuts nothing (`show info`), halfway between cuts, is the reference: "
             "what is above it is the cut's.", "",
             "| after a cut, pinging | median | min | max | runs |", "|---|---:|---:|---:|---:|"]
    for key, name in (("none", "both ways at once, nothing cut (the probe alone)"),
                      ("both", "both ways at once (node-a → node-b and node-b → node-a)"),
                      ("from-a", "from node-a alone"), ("from-b", "from node-b alone"), ("one-way", "from one side alone (both rows above)")):
        c = cuts.get(key)
        if c:
            timed_out = f" ({c['timeouts']} not back in time)" if c["timeouts"] else ""
            lines.append(f"| {name} | {fmt(c['median'], 'ms', 0)} | {fmt(c['min'], 'ms', 0)} | {fmt(c['max'], 'ms', 0)} | "
                         f"{c['count']}{timed_out} |")
    redial = {(s["variant"], s["metric"]): s for s in samples if s["bench"] == "gateway_redial"}
    if redial:
        total = next(iter(redial.values())).get("cuts")
        parts = [f"{node} {redial[(node, 'connections')]['value']:.0f} and {redial[(node, 'nudges')]['value']:.0f}"
                 for node in ("node-a", "node-b") if (node, "connections") in redial and (node, "nudges") in redial]
        if parts:
            lines += ["", f"Over the {total} cuts, the new gateway connections each node opened, and the times its "
                      f"vpn-init made WireGuard send at once after a reconnection: " + "; ".join(parts) + "."]
    lines += ["", "On a cut haproxy closes both halves of each node's tunnel: the node's udp2tcp connection to the gateway "
              "and the gateway's connection to the peer's tcp2udp. Each udp2tcp reconnects at once (its connection had "
              "lived more than 10 s; one cut again before it lived 10 s is retried after 100 ms, then after waits doubling "
              "up to 5 s, so a burst of cuts backs off): TCP, "
              "then a TLS 1.2 handshake with the gateway, which opens a new connection to the peer's tcp2udp. udp2tcp "
              "reports `connected` on its status pipe, and vpn-init makes WireGuard send to that peer at once. The "
              "WireGuard session outlives the cut, so what has to happen is the reconnection and one packet: the peer's "
              "WireGuard sent its last packets to the tcp2udp socket of the closed connection and only follows (roams "
              "to) the new one when a packet arrives through it. Pinging from one side alone is the case that packet "
              "is for: without it, pings from the listening side wait for the next keepalive (up to 25 s)."]
    if rotation:
        directions = "; ".join(f"{'node-a → node-b' if d == 'ab' else 'node-b → node-a'} {received:.0f} of {sent} answered"
                               for d, (sent, received) in sorted(rotation["by_direction"].items()))
        nodes = ", ".join(f"{node} {count:.0f}" for node, count in rotation["by_node"].items())
        lines += ["", f"Planned rotation: with `VPN_GATEWAY_CONNECTION_LIFETIME={rotation['lifetime']}` each udp2tcp "
                  f"replaces its gateway connection every {rotation['lifetime']} s, opening the next one before it lets the "
                  f"old one go (make before break). Pinging each way at 5/s for {rotation['seconds']} s: {directions}; "
                  f"new gateway connections meanwhile: {nodes}."]
    return lines


def agent_rtt_ms(samples, idle_ms=1000):
    """The stand-in guest agent's Info + GetKey round trips alone, in ms (medians), or None: after
    a second's idle as before each boot (idle_ms=1000), or back to back (idle_ms=0)."""
    info, _ = median(samples, "agent_rtt_userspace", "Info", "us", idle_ms=idle_ms)
    get_key, _ = median(samples, "agent_rtt_userspace", "GetKey", "us", idle_ms=idle_ms)
    return None if info is None or get_key is None else (info + get_key) / 1000


def kilobytes(extra):
    if extra is None:
        return "—"
    return f"{'+' if extra >= 0 else '−'}{abs(extra) / 1e6:.2f} MB" if abs(extra) >= 1e6 else \
        f"{'+' if extra >= 0 else '−'}{abs(extra) / 1e3:.1f} KB"


def json_cost(samples):
    """The json section's figures per program, or None: size, start (median of the rounds'
    medians), and both over the program without JSON; start differences are paired by round
    (the programs run interleaved), with their median and range."""
    starts_by_round = {}
    for s in samples:
        if s["bench"] == "json_start":
            starts_by_round.setdefault(s["variant"], {})[s.get("run")] = s["value"]
    cost = {}
    for variant in ("base", "own", "foundation"):
        size, _ = median(samples, "json_size", variant, "bytes")
        start, rounds = median(samples, "json_start", variant, "ms")
        cost[variant] = {"bytes": size, "ms": start, "rounds": rounds}
    if cost["own"]["bytes"] is None or cost["foundation"]["bytes"] is None:
        return None
    base_rounds = starts_by_round.get("base", {})
    for variant, c in cost.items():
        c["extra_bytes"] = None if cost["base"]["bytes"] is None else c["bytes"] - cost["base"]["bytes"]
        mine = starts_by_round.get(variant, {})
        differences = [mine[r] - base_rounds[r] for r in mine if r in base_rounds]
        c["extra_ms"] = statistics.median(differences) if differences else None
        c["extra_range"] = (min(differences), max(differences)) if differences else None
    starts = next((s.get("starts") for s in samples if s["bench"] == "json_start"), None)
    rounds = cost["own"]["rounds"]
    cost["runs"] = f"{rounds}×{starts}" if starts and rounds else (rounds or 1)
    return cost


def values_of(samples, bench, variant, metric, **match):
    return [s["value"] for s in samples if s["bench"] == bench and s["variant"] == variant and s["metric"] == metric
            and all(s.get(k) == v for k, v in match.items())]


def with_range(samples, bench, variant, metric, unit="ms", digits=1, **match):
    """The median of BENCH's samples and, when they differ, their range: `12.3 ms (11.0-14.2)`."""
    found = values_of(samples, bench, variant, metric, **match)
    if not found:
        return "—"
    text = fmt(statistics.median(found), unit, digits)
    if len(found) > 1 and min(found) != max(found):
        text += f" ({min(found):.{digits}f}–{max(found):.{digits}f})"
    return text


def peers_figures(samples):
    """The peers section's peer counts, the memory per 1,000 peers (the difference between the
    largest and the smallest count, run by run, scaled to 1,000) and whether vpn-init could
    reload; or None when the section has not run."""
    counts = sorted({s["peers"] for s in samples if s["bench"] == "peers_boot"})
    if not counts:
        return None
    smallest, largest = counts[0], counts[-1]
    per_peers = {}
    if largest > smallest:
        for variant, metric in (("vpn-init", "init_rss_kb"), ("vpn-init", "init_hwm_kb"), ("vpn-init", "wg_rss_kb"),
                                ("vpn-init", "wg_hwm_kb"), ("setconf", "wg_rss_kb")):
            by_run = {}
            for s in samples:
                if s["bench"] == "peers_rss" and s["variant"] == variant and s["metric"] == metric and s["peers"] in (smallest, largest):
                    by_run.setdefault(s.get("run"), {})[s["peers"]] = s["value"]
            slopes = [(r[largest] - r[smallest]) * 1000 / (largest - smallest) for r in by_run.values() if len(r) == 2]
            if slopes:
                key = metric if variant == "vpn-init" else f"setconf_{metric}"
                per_peers[key] = {"median": statistics.median(slopes), "min": min(slopes), "max": max(slopes), "runs": len(slopes)}
    available = [s["value"] for s in samples if s["bench"] == "peers_reload" and s["metric"] == "available"]
    reloads = [s for s in samples if s["bench"] == "peers_reload" and s["metric"] == "ms" and s["variant"].startswith("vpn-init")]
    reload = "available" if reloads and (not available or available[-1]) else "not available"
    return {"counts": counts, "smallest": smallest, "largest": largest, "per_peers": per_peers, "reload": reload}


def peers_lines(samples):
    """The peers section: boot to ready, memory and live reload by number of peers."""
    peers = peers_figures(samples)
    if not peers:
        return []
    counts, largest = peers["counts"], peers["largest"]
    runs = max((s.get("run", 0) for s in samples if s["bench"] == "peers_boot"), default=0)
    lines = ["", "## Many peers: boot, memory and live reload (userspace)", "",
             f"vpn-init with {', '.join(f'{c:,}' for c in counts)} peers from `WG_PEERS_FILE` (a key, allowed IPs "
             "10.100.X.Y/32 inside its 10.100.0.1/16 and an endpoint each; `WG_FORWARD=false WG_MASQUERADE=off`) against "
             "what a wg-quick-style entrypoint does with the same peers in a wg(8) file: wireguard-go creates the device, "
             "`wg setconf` applies the file, `ip address`/`ip link` bring it up (scripts/bench-lib/seed-setconf.sh). Both "
             "on the userspace path (wireguard-go), PID 1 of a fresh pid+mount namespace in a fresh network namespace, "
             f"timed from exec to the `msg=ready` line, measured side by side in one run: {runs} round{'s' if runs != 1 else ''}, each booting "
             "both with every count, interleaved. Medians, with the range of the runs in brackets.", "",
             "| peers | vpn-init boot to ready | wireguard-go + `wg setconf` | ratio | vpn-init shutdown | reference shutdown | runs |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for count in counts:
        ours, n = median(samples, "peers_boot", "vpn-init", "ms", peers=count)
        ref, _ = median(samples, "peers_boot", "setconf", "ms", peers=count)
        r = ratio(ours, ref)
        lines.append(f"| {count:,} | {with_range(samples, 'peers_boot', 'vpn-init', 'ms', peers=count)} | "
                     f"{with_range(samples, 'peers_boot', 'setconf', 'ms', peers=count)} | {'—' if r is None else f'{r:.2f}x'} | "
                     f"{with_range(samples, 'peers_shutdown', 'vpn-init', 'ms', peers=count)} | "
                     f"{with_range(samples, 'peers_shutdown', 'setconf', 'ms', peers=count)} | {n} |")
    slope = {}
    for variant in ("vpn-init", "setconf"):
        low, _ = median(samples, "peers_boot", variant, "ms", peers=counts[0])
        high, _ = median(samples, "peers_boot", variant, "ms", peers=largest)
        if low is not None and high is not None and largest > counts[0]:
            slope[variant] = (high - low) * 1000 / (largest - counts[0])
    if len(slope) == 2:
        render_low, _ = median(samples, "peers_render", "vpn-init", "ms", peers=counts[0])
        render_high, _ = median(samples, "peers_render", "vpn-init", "ms", peers=largest)
        lines += ["", f"Each 1,000 peers add {slope['vpn-init']:.0f} ms to vpn-init's boot and {slope['setconf']:.0f} ms to "
                  f"the reference's (the difference of the medians at {counts[0]:,} and {largest:,} peers). Both hand "
                  "wireguard-go the same peers over its UAPI socket; vpn-init also parses and checks every `WG_PEER_...` "
                  "line and writes the rendered wg0.conf."
                  + ("" if render_low is None or render_high is None else
                     f" Reading the peers alone, without a device (`vpn-init render` of the same file, spawn to exit, the "
                     f"median of 5 starts a round): {render_low:.1f} ms with {counts[0]:,} peer{'s' if counts[0] != 1 else ''}, "
                     f"{render_high:.1f} ms with {largest:,}, so "
                     f"{(render_high - render_low) * 1000 / (largest - counts[0]):.0f} ms per 1,000 peers of the boot's "
                     f"{slope['vpn-init']:.0f}.")]
    lines += ["", "Memory a second after ready, in MB: PID 1 (`VmRSS`, `VmHWM` in brackets), and wireguard-go, where the "
              "peers live on this path (`VmRSS`; the one vpn-init runs, and the one the reference runs)."
              + (" \"after reloads\" is vpn-init's `VmRSS` once the reloads below are done." if peers["reload"] == "available" else ""),
              "", "| peers | vpn-init | vpn-init after reloads | wireguard-go (vpn-init's) | wireguard-go (reference) | runs |",
              "|---:|---:|---:|---:|---:|---:|"]
    for count in counts:
        rss, n = median(samples, "peers_rss", "vpn-init", "init_rss_kb", peers=count)
        hwm, _ = median(samples, "peers_rss", "vpn-init", "init_hwm_kb", peers=count)
        reloaded, _ = median(samples, "peers_rss", "vpn-init", "init_rss_reloaded_kb", peers=count)
        reloads = next((s.get("reloads") for s in samples if s["bench"] == "peers_rss" and s["metric"] == "init_rss_reloaded_kb"), None)
        wg, _ = median(samples, "peers_rss", "vpn-init", "wg_rss_kb", peers=count)
        ref_wg, _ = median(samples, "peers_rss", "setconf", "wg_rss_kb", peers=count)
        lines.append(f"| {count:,} | {mb(rss)} ({mb(hwm)}) | {mb(reloaded)}{'' if reloaded is None or not reloads else f' ({reloads} reloads)'} | "
                     f"{mb(wg)} | {mb(ref_wg)} | {n} |")
    per = peers["per_peers"]

    def slope_text(key):
        p = per.get(key)
        if not p:
            return "—"
        text = f"{p['median']:+,.0f} KiB"
        if p["runs"] > 1 and p["min"] != p["max"]:
            text += f" ({p['min']:+,.0f} to {p['max']:+,.0f} run by run)"
        return text
    if per:
        lines += ["", f"Per 1,000 peers ({counts[0]:,} → {largest:,}, run by run, scaled): vpn-init's `VmRSS` "
                  f"{slope_text('init_rss_kb')}, its `VmHWM` {slope_text('init_hwm_kb')}; wireguard-go's `VmRSS` "
                  f"{slope_text('wg_rss_kb')} under vpn-init and {slope_text('setconf_wg_rss_kb')} under the reference. "
                  "vpn-init keeps the parsed configuration and each peer's live state; the WireGuard peers themselves "
                  "(keys, sessions, allowed-IPs trie, queues) are wireguard-go's."]
    lines += ["", "### Live reload: one peer changed", ""]
    if peers["reload"] != "available":
        lines += ["reload: not available. The vpn-init measured does not reload `WG_PEERS_FILE` while it runs, so "
                  "there is no figure; scripts/bench measures it once it does."]
        return lines
    lines += ["After each boot the middle peer's allowed IPs are changed (a second /32 added, then removed again, in "
              "turn) in a file of the same peers, written beside the live one and renamed over it. \"SIGHUP\": the "
              "rename, then SIGHUP to vpn-init, timed from the signal to the `peers reloaded` line (`changed=` naming "
              "that peer) on its stderr; the file watch's own reload of the same file follows a quarter of a second "
              "later and finds nothing to do (`peers unchanged`). \"file replaced\": the rename alone, timed from the "
              "rename to `peers reloaded trigger=file`, which includes vpn-init's 250 ms debounce. The reference "
              "applies the same change to the wg(8) file with `wg syncconf wg0 FILE` (spawn to exit, inside the "
              "reference's namespaces): wg reads the device's peers from wireguard-go, compares and sends the difference.",
              "", "| peers | SIGHUP → `peers reloaded` | file replaced → `peers reloaded` | `wg syncconf` | ratio SIGHUP / syncconf | samples |",
              "|---:|---:|---:|---:|---:|---:|"]
    for count in counts:
        ours, n = median(samples, "peers_reload", "vpn-init-sighup", "ms", peers=count)
        ref, _ = median(samples, "peers_reload", "wg-syncconf", "ms", peers=count)
        r = ratio(ours, ref)
        lines.append(f"| {count:,} | {with_range(samples, 'peers_reload', 'vpn-init-sighup', 'ms', peers=count)} | "
                     f"{with_range(samples, 'peers_reload', 'vpn-init-file', 'ms', peers=count)} | "
                     f"{with_range(samples, 'peers_reload', 'wg-syncconf', 'ms', peers=count)} | "
                     f"{'—' if r is None else f'{r:.2f}x'} | {n} |")
    return lines


def detail_tables(samples, variants):
    lines = ["## udp-over-tcp goodput by datagram size", "",
             "Median of the runs; goodput is received payload over the time from the first datagram sent "
             "to the last one received.", "",
             "| size | implementation | goodput | ratio to raw UDP | loss | udp2tcp peak RSS | tcp2udp peak RSS | runs |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for size in (64, 1400, 9000):
        raw, _ = median(samples, "udp_blast", "raw", "mbit", size=size)
        for variant in ["raw"] + variants:
            mbit, n = median(samples, "udp_blast", variant, "mbit", size=size)
            if mbit is None:
                continue
            loss, _ = median(samples, "udp_blast", variant, "loss_pct", size=size)
            hwm_u, _ = median(samples, "udp_blast", variant, "udp2tcp_hwm_kb", size=size)
            hwm_t, _ = median(samples, "udp_blast", variant, "tcp2udp_hwm_kb", size=size)
            r = ratio(mbit, raw)
            lines.append(f"| {size} B | {variant} | {mbit:.0f} Mbit/s | {'—' if r is None else f'{r:.2f}'} | {loss:.2f}% | "
                         f"{fmt(hwm_u and hwm_u / 1024, 'MB')} | {fmt(hwm_t and hwm_t / 1024, 'MB')} | {n} |")
    lines += ["", "## Boot, shutdown and memory per entrypoint", "",
              "| path | entrypoint | boot to ready | shutdown | PID 1 idle RSS | container idle RSS | runs |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for path, variants_here in (("userspace", ("vpn-init", "vpn-init-nopie", "vpn-init-dstack", "shell")),
                                ("kernel", ("vpn-init-kernel", "wg-quick"))):
        for variant in variants_here:
            boot, n = median(samples, f"boot_{path}", variant, "ms")
            if boot is None:
                continue
            shutdown, _ = median(samples, f"shutdown_{path}", variant, "ms")
            rss, _ = median(samples, f"idle_rss_{path}", variant, "kB")
            tree, _ = median(samples, f"idle_rss_tree_{path}", variant, "kB")
            lines.append(f"| {path} | {variant} | {fmt(boot, 'ms')} | {fmt(shutdown, 'ms')} | "
                         f"{fmt(rss and rss / 1024, 'MB')} | {fmt(tree and tree / 1024, 'MB')} | {n} |")
    if pie_text(samples):
        lines += ["", pie_text(samples)]
    if median(samples, "boot_userspace", "vpn-init-dstack", "ms")[0] is not None:
        lines += ["", "vpn-init-dstack is vpn-init with `VPN_KEY_SOURCE=dstack VPN_NODE_NAME=node-a`: at boot it asks "
                  "the guest agent for `Info` and `GetKey` instead of reading its key file. The agent here is the Python "
                  "stand-in (scripts/lib/dstack-agent.py), whose answer time is part of the figure: "
                  + agent_rtt_text(samples) + "."]
    lines += peers_lines(samples)
    cost = json_cost(samples)
    if cost:
        lines += ["", "## JSON parser: vpn-init's own vs FoundationEssentials", "",
                  "Three tiny programs built and linked as vpn-init is, stripped (scripts/bench-lib/json-cost); "
                  "start is spawn to exit, including one parse, the median of interleaved starts; \"over no JSON\" "
                  "for start is the median of the differences within each round.", "",
                  "| program | stripped size | over no JSON | start | over no JSON | starts |",
                  "|---|---:|---:|---:|---:|---:|"]
        for variant, name in (("base", "no JSON (prints a line)"), ("own", "Sources/DstackAgent/JSON.swift"),
                              ("foundation", "FoundationEssentials' JSONDecoder")):
            c = cost[variant]
            extra_ms = c["extra_ms"]
            lines.append(f"| {name} | {fmt(c['bytes'] and c['bytes'] / 1e6, 'MB', 2)} | "
                         f"{'—' if variant == 'base' else kilobytes(c['extra_bytes'])} | {fmt(c['ms'], 'ms', 2)} | "
                         f"{'—' if variant == 'base' or extra_ms is None else f'{extra_ms:+.2f} ms'} | {cost['runs']} |")
        lines += ["", json_choice_text(samples, cost)]
    lines += tunnel_lines(samples)
    lines += gateway_lines(samples)
    lines += metrics_lines(samples)
    files = [s for s in samples if s["bench"] == "image_file"]
    if files:
        lines += ["", "## Image contents (usr/bin, stripped)", "", "| file | size |", "|---|---:|"]
        for s in files:
            lines.append(f"| {s['variant']} | {s['value'] / 1e6:.1f} MB |")
    return lines


def metrics_lines(samples):
    """The metrics section: vpn-init with VPN_METRICS_LISTEN against the same node without it, run
    by run (interleaved), and PID 1's memory after the scrapes; [] when it was not run."""
    def by_run(bench, metric):
        runs = {}
        for s in samples:
            if s["bench"] == bench and s["metric"] == metric:
                runs.setdefault(s.get("run"), {})[s["variant"]] = s["value"]
        return runs

    def differences(bench, metric, first="vpn-init-metrics", second="vpn-init"):
        return [r[first] - r[second] for r in by_run(bench, metric).values() if first in r and second in r]

    def range_text(values, unit, digits):
        return (f"median {statistics.median(values):+.{digits}f} {unit}, "
                f"from {min(values):+.{digits}f} to {max(values):+.{digits}f} {unit}")

    if median(samples, "boot_metrics", "vpn-init-metrics", "ms")[0] is None:
        return []
    lines = ["", "## Metrics listener (`VPN_METRICS_LISTEN`)", "",
             "The boot table's userspace node booted by the same harness with and without "
             "`VPN_METRICS_LISTEN=127.0.0.1:9586` (vpn-init-metrics and vpn-init), alternating run by run, each in a "
             "fresh namespace after one discarded warm-up each. After the idle second and the memory readings, "
             "vpn-init-metrics gets scrapes of `/metrics` one after another (one curl, a new connection each, inside "
             "the node's namespace; each scrape reads wireguard-go's device over its socket), then PID 1's VmRSS is "
             "read again.", "",
             "| node | boot to ready | PID 1 idle RSS | container idle RSS | shutdown | runs |",
             "|---|---:|---:|---:|---:|---:|"]
    for variant, name in (("vpn-init", "vpn-init, no listener"), ("vpn-init-metrics", "vpn-init-metrics")):
        boot, n = median(samples, "boot_metrics", variant, "ms")
        if boot is None:
            continue
        rss, _ = median(samples, "idle_rss_metrics", variant, "kB")
        tree, _ = median(samples, "idle_rss_tree_metrics", variant, "kB")
        shutdown, _ = median(samples, "shutdown_metrics", variant, "ms")
        lines.append(f"| {name} | {fmt(boot, 'ms')} | {fmt(rss and rss / 1024, 'MB', 2)} | "
                     f"{fmt(tree and tree / 1024, 'MB', 2)} | {fmt(shutdown, 'ms')} | {n} |")
    boot_differences = differences("boot_metrics", "ms")
    rss_differences = differences("idle_rss_metrics", "kB")
    text = []
    if boot_differences:
        text.append(f"run by run, with the listener minus without: boot to ready {range_text(boot_differences, 'ms', 2)}"
                    + (" (a boot's own variation hides the difference)" if min(boot_differences) < 0 < max(boot_differences) else ""))
    if rss_differences:
        text.append(f"PID 1's idle RSS {range_text(rss_differences, 'KB', 0)}")
    after, after_runs = median(samples, "rss_after_scrapes_metrics", "vpn-init-metrics", "kB")
    if after is not None:
        scrapes = next((s.get("scrapes") for s in samples if s["bench"] == "rss_after_scrapes_metrics"), None)
        idle = by_run("idle_rss_metrics", "kB")
        growth = [r["vpn-init-metrics"] - idle[run]["vpn-init-metrics"] for run, r in by_run("rss_after_scrapes_metrics", "kB").items()
                  if "vpn-init-metrics" in idle.get(run, {})]
        scrape, _ = median(samples, "scrape_metrics", "vpn-init-metrics", "ms")
        sentence = f"after {scrapes} scrapes PID 1's RSS is {fmt(after / 1024, 'MB', 2)} (median of {after_runs} runs"
        if growth:
            sentence += f"; over the same run's idle RSS {range_text(growth, 'KB', 0)}"
        sentence += ")"
        if scrape is not None:
            sentence += f", and a scrape takes {fmt(scrape, 'ms', 2)} (median, connection included)"
        text.append(sentence)
    if text:
        lines += ["", text[0][0].upper() + text[0][1:] + "".join(f"; {t}" for t in text[1:]) + "."]
    return lines + responder_lines(samples, boot_differences, rss_differences)


def responder_lines(samples, boot_differences, rss_differences):
    """The library the listener could have used: SwiftNIO's HTTP/1 responder against the same
    program without NIO; [] when it was not measured."""
    sizes = {s["variant"]: s["value"] for s in samples if s["bench"] == "responder_size"}
    if not {"base-listener", "nio-responder"} <= sizes.keys():
        return []
    lines = ["", "### A library instead?", "",
             "The listener is purpose-built. The library it could have used, measured: a SwiftNIO HTTP/1 responder "
             "(scripts/bench-lib/responder, `nio-responder`: one event loop thread, NIO's least, `/metrics` answered "
             "with a fixed body of a node's size, so its scrape reads no device, unlike vpn-init's) and the same program without NIO (`base-listener`: it binds and waits), "
             "both built as vpn-init is and stripped, started alternately in fresh namespaces. Spawn to listening "
             "includes the shell's spawn, the same for both.", "",
             "| program | size | spawn to listening | idle RSS | threads | scrape | RSS after the scrapes | runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    figures = {}
    for variant in ("base-listener", "nio-responder"):
        start, n = median(samples, "responder_start", variant, "ms")
        rss, _ = median(samples, "responder_idle_rss", variant, "kB")
        threads, _ = median(samples, "responder_threads", variant, "count")
        scrape, _ = median(samples, "responder_scrape", variant, "ms")
        after, _ = median(samples, "responder_rss_after_scrapes", variant, "kB")
        figures[variant] = (start, rss, threads)
        lines.append(f"| {variant} | {sizes[variant] / 1e6:.1f} MB | {fmt(start, 'ms')} | {fmt(rss and rss / 1024, 'MB', 2)} | "
                     f"{'—' if threads is None else f'{threads:.0f}'} | {'—' if scrape is None else fmt(scrape, 'ms', 2)} | "
                     f"{'—' if after is None else fmt(after / 1024, 'MB', 2)} | {n} |")
    (base_start, base_rss, base_threads), (nio_start, nio_rss, nio_threads) = figures["base-listener"], figures["nio-responder"]
    if None not in (base_start, base_rss, base_threads, nio_start, nio_rss, nio_threads):
        sentence = (f"NIO adds {(sizes['nio-responder'] - sizes['base-listener']) / 1e6:.1f} MB to the executable, "
                    f"{(nio_rss - base_rss) / 1024:.1f} MB of idle RSS, {nio_threads - base_threads:.0f} thread(s) and "
                    f"{nio_start - base_start:.1f} ms to the start")
        if boot_differences and rss_differences:
            sentence += (f"; vpn-init's own listener adds a median {statistics.median(rss_differences):+.0f} KB of idle RSS, "
                         f"no thread, and {statistics.median(boot_differences):+.2f} ms to boot to ready (the table above)")
        lines += ["", sentence + ". In PID 1, a second thread would also be the first: the loop, its signals and "
                  "its children are single-threaded by design (docs/ARCHITECTURE.md)."]
    return lines


def agent_rtt_text(samples):
    """One sentence on the stand-in's own answer time (for the boot table and the method)."""
    figures = {}
    for idle_ms in (1000, 0):
        info, _ = median(samples, "agent_rtt_userspace", "Info", "us", idle_ms=idle_ms)
        get_key, _ = median(samples, "agent_rtt_userspace", "GetKey", "us", idle_ms=idle_ms)
        count = next((s.get("count") for s in samples if s["bench"] == "agent_rtt_userspace" and s.get("idle_ms") == idle_ms), None)
        figures[idle_ms] = (info, get_key, count)
    info, get_key, count = figures[1000]
    if info is None or get_key is None:
        return "its answer time alone was not measured in this run"
    text = (f"alone, after a second's idle as before each boot, one `Info` round trip to it takes {info / 1000:.2f} ms and "
            f"one `GetKey` {get_key / 1000:.2f} ms (medians of {count} pairs")
    warm_info, warm_get_key, warm_count = figures[0]
    if warm_info is not None and warm_get_key is not None:
        text += f"; back to back, {warm_info / 1000:.2f} and {warm_get_key / 1000:.2f} ms over {warm_count} pairs"
    return (text + "), each made as vpn-init makes it (a new connection, a POST, `Connection: close`), so subtract "
            f"about {(info + get_key) / 1000:.1f} ms for dstack mode's own cost")


def start_cost_text(c):
    """What a program's start costs over the one without JSON: the paired rounds' median and range."""
    if c["extra_ms"] is None:
        return "an unmeasured start cost"
    low, high = c["extra_range"]
    if low <= 0 <= high:
        return f"no measurable start time (per round {low:+.2f} to {high:+.2f} ms against no JSON)"
    return f"{c['extra_ms']:.2f} ms to a start ({low:.2f}-{high:.2f} ms in each round)"


def json_choice_text(samples, cost):
    """Which parser vpn-init uses, and why, from the measured figures."""
    own, foundation = cost["own"], cost["foundation"]
    image, _ = median(samples, "image", "dstack-vpn", "bytes")
    budget = " in an image that must stay under 30 MB"
    if image is not None:
        budget += f" (it is {image / 1e6:.1f} MB"
        if foundation["extra_bytes"] is not None:
            budget += f"; with FoundationEssentials in vpn-init it would be about {(image + foundation['extra_bytes']) / 1e6:.1f} MB"
        budget += ")"
    return (f"vpn-init uses its own parser (Sources/DstackAgent/JSON.swift) to read the guest agent's answers: with one "
            f"parse it adds {kilobytes(own['extra_bytes']).lstrip('+')} to the executable and {start_cost_text(own)}, "
            f"where FoundationEssentials' JSONDecoder adds {kilobytes(foundation['extra_bytes']).lstrip('+')} and "
            f"{start_cost_text(foundation)}, to read two small objects once a boot{budget}.")


# The jumbo candidate the summary uses while the TCP default is still 1380 (before the rule for
# TCP-only nodes lands, the default row shows 1380 and this is the MTU compared instead).
JUMBO_CANDIDATE = 32000
TUNNEL_PROGRAMS = ("vpn_init", "wireguard_go", "udp2tcp", "tcp2udp")


def jumbo_mtu(samples):
    """The MTU the TLS (else TCP) default row chose when it is jumbo, else JUMBO_CANDIDATE if it
    was measured; with how it was chosen, or None."""
    for transport in ("tls", "tcp"):
        chosen, _ = median(samples, "tunnel", transport, "mtu", set="default")
        if chosen is not None and chosen > 1500:
            return int(chosen), f"the {transport.upper()} nodes' default"
    default, _ = median(samples, "tunnel", "tcp", "mtu", set="default")
    if median(samples, "tunnel", "tls", "mbit", mtu=JUMBO_CANDIDATE)[0] is None:
        return None
    return JUMBO_CANDIDATE, (f"`WG_MTU={JUMBO_CANDIDATE}`, the candidate; the default here is still {default:.0f}"
                             if default is not None else f"`WG_MTU={JUMBO_CANDIDATE}`, the candidate")


def tunnel_rows(samples, bench="tunnel"):
    """The tunnel section's configurations in order: (transport, set, MTU) with their medians."""
    keys = sorted({(s["variant"], s.get("set"), s["mtu"]) for s in samples
                   if s["bench"] == bench and s["metric"] == "mbit" and "mtu" in s},
                  key=lambda k: (("udp", "tcp", "tls").index(k[0]) if k[0] in ("udp", "tcp", "tls") else 9,
                                 k[1] != "default", k[2]))
    rows = []
    for transport, setting, mtu in keys:
        match = {"mtu": mtu} if setting is None else {"mtu": mtu, "set": setting}
        row = {"transport": transport, "set": setting, "mtu": mtu}
        row["mbit"], row["runs"] = median(samples, bench, transport, "mbit", **match)
        for metric in ("rtt_idle_ms", "rtt_load_ms", "full_size_ok") + tuple(f"{p}_hwm_kb" for p in TUNNEL_PROGRAMS):
            row[metric], _ = median(samples, bench, transport, metric, **match)
        rows.append(row)
    return rows


TRANSPORT_NAMES = {"udp": "UDP", "tcp": "TCP (udp2tcp/tcp2udp)", "tls": "TLS 1.2 via gateway"}


def mb(kb):
    return "—" if kb is None else f"{kb / 1024:.1f}"


def tunnel_lines(samples):
    """The tunnel section's table by transport and MTU, the largest MTU and the kernel ratios."""
    rows = tunnel_rows(samples)
    kernel = tunnel_rows(samples, "tunnel_kernel")
    if not rows and not kernel:
        return []
    udp, _ = median(samples, "tunnel", "udp", "mbit", mtu=1420)
    lines = ["", "## Tunnel throughput, latency and memory by transport and inner MTU", ""]
    if rows:
        lines += ["iperf3 (TCP, one stream) from node a to node b over userspace WireGuard (wireguard-go), median of the "
                  "rounds; RTT is the median ping through the tunnel, idle and while iperf3 runs; peak RSS is `VmHWM` of "
                  "each program after the load, the larger of the two nodes' (vpn-init, wireguard-go) or of the one node "
                  "that runs it (udp2tcp on the dialing node, tcp2udp on the listening one), in MB. \"default\" rows set "
                  "no `WG_MTU`: the MTU is the one vpn-init chose (read from wg0).", "",
                  "| transport | MTU | Mbit/s | ratio to UDP at 1420 | RTT idle | RTT under load | vpn-init | "
                  "wireguard-go | udp2tcp | tcp2udp | full-size packet | runs |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
        for row in rows:
            name = TRANSPORT_NAMES.get(row["transport"], row["transport"])
            mtu = f"{row['mtu']:.0f}" + (" (default)" if row["set"] == "default" else "")
            r = ratio(row["mbit"], udp)
            ok = row["full_size_ok"]
            lines.append(f"| {name} | {mtu} | {fmt(row['mbit'], '', 0)} | {'—' if r is None else f'{r:.2f}x'} | "
                         f"{fmt(row['rtt_idle_ms'], 'ms', 2)} | {fmt(row['rtt_load_ms'], 'ms', 1)} | "
                         + " | ".join(mb(row[f"{p}_hwm_kb"]) for p in TUNNEL_PROGRAMS)
                         + f" | {'—' if ok is None else ('crosses' if ok >= 1 else '**dropped**')} | {row['runs']} |")
        largest = next((s for s in samples if s["bench"] == "tunnel" and s["metric"] == "largest_mtu"), None)
        if largest:
            limit = 65507 - 32
            lines += ["", f"Largest inner MTU that works over TCP with wireguard-go: **{largest['value']:.0f}** (bisected, one "
                      f"boot per step: a full-size ping, don't-fragment, crosses and is answered; "
                      f"{largest.get('first_failing', '?')} fails). WireGuard's data message is the inner packet plus 32 bytes "
                      "(16 of header, 16 of tag; wireguard-go pads to a multiple of 16 but never past the MTU), and every UDP "
                      "hop of the TCP path (wireguard-go to udp2tcp, tcp2udp to wireguard-go, on loopback) must fit the "
                      f"largest IPv4 UDP payload, 65507 bytes, so the arithmetic limit is 65507 − 32 = {limit}"
                      + (", which is what was measured." if largest["value"] == limit else
                         f"; the measured figure differs from it by {largest['value'] - limit:+.0f}.")
                      + " The 2-byte frame length of udp-over-tcp (up to 65535) is not the limit."]
    if kernel:
        kernel_udp, _ = median(samples, "tunnel_kernel", "udp", "mbit", mtu=1420)
        lines += ["", "### Kernel WireGuard (virtme-ng VM, QEMU TCG): ratios only", "",
                  "The same rounds on the kernel path (`WG_IMPLEMENTATION=kernel`) in a VM booting Debian's kernel "
                  "under TCG, where every instruction is emulated: absolute rates are meaningless, the ratios to UDP "
                  "at 1420 measured in the same VM are the figure.", "",
                  "| transport | MTU | ratio to UDP at 1420 | runs |", "|---|---:|---:|---:|"]
        for row in kernel:
            r = ratio(row["mbit"], kernel_udp)
            lines.append(f"| {TRANSPORT_NAMES.get(row['transport'], row['transport'])} | {row['mtu']:.0f} | "
                         f"{'—' if r is None else f'{r:.2f}x'} | {row['runs']} |")
    return lines


def tunnel_plot(samples, directory):
    """docs/bench/tunnel-mtu.png: Mbit/s and RTT under load by MTU, TCP and TLS, UDP at 1420 as
    the reference line; or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = tunnel_rows(samples)
    if not rows:
        return None
    udp = next((r for r in rows if r["transport"] == "udp" and r["mtu"] == 1420), None)
    os.makedirs(directory, exist_ok=True)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for transport, colour in (("tcp", "tab:blue"), ("tls", "tab:orange")):
        points = sorted((r["mtu"], r["mbit"], r["rtt_load_ms"]) for r in rows
                        if r["transport"] == transport and r["set"] == "explicit" and r["mbit"] is not None)
        if points:
            label = TRANSPORT_NAMES[transport]
            left.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colour, label=label)
            right.plot([p[0] for p in points if p[2] is not None], [p[2] for p in points if p[2] is not None],
                       marker="o", color=colour, label=label)
        default = next((r for r in rows if r["transport"] == transport and r["set"] == "default"), None)
        if default and default["mbit"] is not None:
            left.plot([default["mtu"]], [default["mbit"]], marker="*", markersize=14, color=colour, linestyle="none",
                      label=f"{transport.upper()} default ({default['mtu']:.0f})")
    if udp and udp["mbit"] is not None:
        left.axhline(udp["mbit"], color="grey", linestyle="--", linewidth=1, label="UDP at 1420")
        left.axhline(1.5 * udp["mbit"], color="red", linestyle=":", linewidth=1, label="target 1.5x UDP")
    if udp and udp["rtt_load_ms"] is not None:
        right.axhline(udp["rtt_load_ms"], color="grey", linestyle="--", linewidth=1, label="UDP at 1420")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("inner MTU (WG_MTU, bytes)")
        axis.set_xticks([1380, 4000, 8920, 16000, 32000, 65000])
        axis.set_xticklabels(["1380", "4000", "8920", "16000", "32000", "65000"], rotation=30)
        axis.legend(fontsize=8)
    left.set_ylabel("iperf3 through the tunnel (Mbit/s)")
    left.set_ylim(bottom=0)
    right.set_ylabel("ping RTT while iperf3 runs (ms)")
    right.set_ylim(bottom=0)
    figure.suptitle("WireGuard (wireguard-go) carried over TCP and TLS 1.2: throughput and latency by inner MTU")
    figure.tight_layout()
    path = os.path.join(directory, "tunnel-mtu.png")
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot(samples, variants, directory):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    points = {}
    for variant in ["raw"] + variants:
        rates = sorted({s["rate"] for s in samples if s["bench"] == "udp_sweep" and s["variant"] == variant})
        if rates:
            points[variant] = [(r, median(samples, "udp_sweep", variant, "mbit", rate=r)[0],
                                median(samples, "udp_sweep", variant, "loss_pct", rate=r)[0]) for r in rates]
    if not points:
        return None
    os.makedirs(directory, exist_ok=True)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for variant, rows in points.items():
        left.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label=variant)
        right.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", label=variant)
    top = max(r[0] for rows in points.values() for r in rows)
    left.plot([0, top], [0, top], color="grey", linestyle=":", linewidth=1, label="offered")
    left.axhline(1500, color="red", linestyle="--", linewidth=1, label="target 1500")
    left.set_xlabel("offered load (Mbit/s, 1400-byte datagrams)")
    left.set_ylabel("goodput received (Mbit/s)")
    left.legend()
    right.axhline(1, color="red", linestyle="--", linewidth=1, label="target 1%")
    right.set_xlabel("offered load (Mbit/s)")
    right.set_ylabel("loss (%)")
    right.legend()
    figure.suptitle("udp2tcp → tcp2udp on loopback: goodput and loss against offered load")
    figure.tight_layout()
    path = os.path.join(directory, "udp-goodput.png")
    figure.savefig(path, dpi=90)
    return path


def main():
    results_path, markdown_path, plot_dir = sys.argv[1:4]
    with open(results_path) as handle:
        results = json.load(handle)
    samples, meta = results["samples"], results["meta"]
    variants = ["ours"] + sorted({s["variant"] for s in samples if s["bench"] == "udp_blast"} - {"raw", "ours"})
    plot_path = plot(samples, variants, plot_dir)
    tunnel_plot_path = tunnel_plot(samples, plot_dir)
    lines = ["# Benchmarks", "",
             "Generated by `scripts/bench` (do not edit by hand: rerun it). Every figure is the median of several "
             "runs, measured side by side with its reference in the same run; a ratio below 1 is faster or smaller "
             "for time and size, above 1 is faster for goodput. Benchmarks are not tests: no target is asserted "
             "anywhere in scripts/test.", "",
             "## Machine", "", "| | |", "|---|---|"]
    meta = dict(meta)
    # Every partial run since the last full one (scripts/bench keeps the list).
    meta["partial"] = "; ".join(f"{r['sections']} rerun on {r['date']} at {r['commit']} ({r['mode']} mode)"
                                for r in meta.get("reruns", []))
    for key in ("date", "mode", "partial", "commit", "uname", "nproc", "load", "swift", "wireguard_go", "iperf3", "gcc", "compare"):
        if meta.get(key):
            lines.append(f"| {key} | {str(meta[key]).replace('|', '/')} |")
    lines += ["", "## Summary", "",
              "| figure | ours | reference | ratio | target | met | runs |", "|---|---:|---|---:|---|---|---:|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in summary_rows(samples)]
    lines += [""] + detail_tables(samples, variants)
    if plot_path:
        relative = os.path.relpath(plot_path, os.path.dirname(os.path.abspath(markdown_path)))
        lines += ["", "## Offered load", "",
                  "Paced blasts of 1400-byte datagrams at rising rates (median of three runs per point, one when quick): where the curve leaves "
                  "the diagonal the pipeline is saturated, and the excess is dropped at udp2tcp's UDP socket, "
                  "the sender's side, not queued.", "", f"![goodput and loss against offered load]({relative})"]
    if tunnel_plot_path:
        relative = os.path.relpath(tunnel_plot_path, os.path.dirname(os.path.abspath(markdown_path)))
        lines += ["", "## Tunnel throughput by inner MTU", "",
                  "The tunnel table's rows as curves: TCP and TLS at each `WG_MTU` (stars: their default), UDP at 1420 "
                  "as the reference, and the ping RTT while iperf3 runs.", "",
                  f"![iperf3 and RTT under load by inner MTU]({relative})"]
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizations.md")
    if os.path.exists(notes):
        with open(notes) as handle:
            lines += ["", handle.read().rstrip()]
    method = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "method.md")).read().rstrip()
    # method.md's placeholder: the stand-in's own answer time, as measured in the last boot run.
    method = method.replace("{agent_rtt}", agent_rtt_text(samples))
    lines += ["", "## How it is measured", "", method, ""]
    with open(markdown_path, "w") as handle:
        handle.write("\n".join(lines))


if __name__ == "__main__":
    main()
