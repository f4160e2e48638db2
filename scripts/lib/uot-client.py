#!/usr/bin/env python3
"""Clients and servers for the udp-over-tcp black-box suites (scripts/test-abuse,
scripts/test-udptcp): UDP echo and sink, datagram clients for udp2tcp, a framing client for
tcp2udp (2-byte big-endian length, then the datagram), clients that misbehave, and a malicious
server for udp2tcp. Every loop is bounded in count and time; everything talks to the addresses
given (127.0.0.1 or [::1] inside a test's namespace).

Usage: uot-client.py COMMAND ADDRESS [options]   (uot-client.py COMMAND --help says more)
The protocol-level cases (every frame size, truncated and oversized frames, PROXY headers, the
malicious server's behaviour) are Swift tests: Tests/UDPOverTCPTests/AbuseTests.swift.
"""
import argparse, os, random, select, selectors, socket, struct, sys, time


def parse_addr(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, (host, int(port))


def udp_socket(text=None, receive_buffer=False):
    family, _ = parse_addr(text) if text else (socket.AF_INET, None)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return sock


def tcp_connect(text, timeout=5, source=None):
    family, addr = parse_addr(text)
    sock = socket.socket(family, socket.SOCK_STREAM)
    if source:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(parse_addr(source)[1])
    sock.settimeout(timeout)
    sock.connect(addr)
    return sock


def frame(payload):
    return struct.pack(">H", len(payload)) + payload


def read_exact(sock, n, deadline):
    data = b""
    while len(data) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(remaining)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def closed_by_peer(sock, wait):
    """True when the peer has closed (EOF or reset) within `wait` seconds; data is discarded."""
    deadline = time.monotonic() + wait
    poller = select.poll()  # not select(): a thousand sockets go past FD_SETSIZE
    poller.register(sock, select.POLLIN)
    while True:
        if not poller.poll(max(0, deadline - time.monotonic()) * 1000):
            return False
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def cmd_echo(args):
    """UDP echo server; unless --quiet, logs a line per datagram with its length and first bytes."""
    sock = udp_socket(args.listen, receive_buffer=True)
    sock.bind(parse_addr(args.listen)[1])
    print("echo ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65535)
        if len(data) > 0 and not args.quiet:
            print(f"datagram from={peer[0]}:{peer[1]} len={len(data)} head={data[:24].hex()}", flush=True)
        sock.sendto(data, peer)


def cmd_sink(args):
    """UDP sink: counts datagrams, replies to none; prints the count at most once a second."""
    sock = udp_socket(args.listen, receive_buffer=True)
    sock.bind(parse_addr(args.listen)[1])
    print("sink ready", flush=True)
    sock.settimeout(1)
    count, reported, last = 0, time.monotonic(), 0
    while True:
        try:
            sock.recv(65535)
            count += 1
        except socket.timeout:
            pass
        if count != last and time.monotonic() - reported >= 1:
            reported, last = time.monotonic(), count
            print(f"datagrams={count}", flush=True)


def cmd_send(args):
    """Sends one datagram of TEXT from --source to each ADDRESS."""
    sock = udp_socket(args.to[0])
    if args.source:
        sock.bind(parse_addr(args.source)[1])
    for to in args.to:
        sock.sendto(args.text.encode(), parse_addr(to)[1])
    return 0


def cmd_roundtrip(args):
    """Sends datagrams of the given sizes to udp2tcp (resent every --timeout s until --deadline);
    each must come back intact."""
    _, addr = parse_addr(args.to)
    sock = udp_socket(args.to, receive_buffer=True)
    deadline = time.monotonic() + args.deadline
    failed = []
    for size in args.sizes:
        payload = os.urandom(size)
        ok = False
        while not ok and time.monotonic() < deadline:
            sock.sendto(payload, addr)
            wait_until = min(deadline, time.monotonic() + args.timeout)
            while time.monotonic() < wait_until:
                ready, _, _ = select.select([sock], [], [], max(0, wait_until - time.monotonic()))
                if not ready:
                    break
                if sock.recv(65535) == payload:
                    ok = True
                    break
        if not ok:
            failed.append(size)
    print(f"sizes={len(args.sizes)} failed={failed}", flush=True)
    return 1 if failed else 0


def cmd_flood(args):
    """Sends COUNT datagrams of each SIZE as fast as the socket takes them (for at most SECONDS),
    reading and dropping whatever comes back; prints how many were sent and came back."""
    _, addr = parse_addr(args.to)
    sock = udp_socket(args.to)
    sock.setblocking(False)
    deadline = time.monotonic() + args.seconds
    payloads = {size: os.urandom(size) for size in args.sizes}
    sent = back = 0
    for size in args.sizes:
        for _ in range(args.count):
            if time.monotonic() >= deadline:
                break
            try:
                sock.sendto(payloads[size], addr)
                sent += 1
            except (BlockingIOError, OSError):
                select.select([], [sock], [], 0.01)
            try:
                while sock.recv(65535):
                    back += 1
            except BlockingIOError:
                pass
    print(f"sent={sent} back={back}", flush=True)
    return 0


def cmd_burst(args):
    """Sends COUNT numbered datagrams at once, then prints how many distinct echoes came back
    (until 2 s pass without one after the first, or the deadline)."""
    _, addr = parse_addr(args.to)
    sock = udp_socket(args.to)
    for i in range(args.count):
        sock.sendto(b"burst-%d" % i, addr)
    seen = set()
    deadline = time.monotonic() + args.deadline
    while time.monotonic() < deadline:
        wait = min(deadline - time.monotonic(), 2.0 if seen else deadline - time.monotonic())
        ready, _, _ = select.select([sock], [], [], max(0, wait))
        if not ready:
            if seen:
                break
            continue
        seen.add(sock.recvfrom(65535)[0])
    print(len(seen), flush=True)
    return 0


def cmd_paced(args):
    """Sends COUNT numbered datagrams, one every INTERVAL s, and prints how many distinct
    ones came back (waiting up to 3 s after the last)."""
    _, addr = parse_addr(args.to)
    sock = udp_socket(args.to)
    seen, sent, end = set(), 0, None
    next_send = time.monotonic()
    while end is None or (time.monotonic() < end and len(seen) < args.count):
        if sent < args.count and time.monotonic() >= next_send:
            sock.sendto(b"paced-%d" % sent, addr)
            sent, next_send = sent + 1, next_send + args.interval
            end = time.monotonic() + 3 if sent == args.count else None
            continue
        wait = next_send - time.monotonic() if sent < args.count else end - time.monotonic()
        if select.select([sock], [], [], max(0, wait))[0]:
            seen.add(sock.recvfrom(65535)[0])
    print(len(seen), flush=True)
    return 0


def cmd_raw(args):
    """Sends raw bytes, then closes (--close), half-closes (--shutdown) or keeps the connection;
    then checks whether the server closed it within --timeout (--expect closed or open)."""
    sock = tcp_connect(args.to)
    sock.sendall(bytes.fromhex(args.hex))
    if args.close:
        sock.close()
        print("sent and closed", flush=True)
        return 0
    if args.shutdown:
        sock.shutdown(socket.SHUT_WR)
    closed = closed_by_peer(sock, args.timeout)
    print("closed by server" if closed else "still open", flush=True)
    return 0 if (closed == (args.expect == "closed")) else 1


def cmd_oversized(args):
    """COUNT connections at once, each sending a random length above 65507: all must be closed."""
    rng = random.Random(3)
    socks = []
    for _ in range(args.count):
        sock = tcp_connect(args.to)
        sock.sendall(struct.pack(">H", rng.randint(65508, 65535)) + os.urandom(rng.randint(0, 64)))
        socks.append(sock)
    still_open = sum(0 if closed_by_peer(sock, 5) else 1 for sock in socks)
    print(f"connections={args.count} still_open={still_open}", flush=True)
    return 1 if still_open else 0


def zero_frames(sock, count):
    """Sends COUNT empty frames in one burst, then a marker frame (resent each second, for at
    most 60 s: a loaded machine may take long over 200,000 datagrams) until it comes back: UDP
    drops echoes under such a burst, the marker's too; what matters is that the connection lives."""
    marker = b"after-the-burst"
    sock.sendall(b"\0\0" * count)
    received, empty, sends, back = b"", 0, 0, False
    deadline = time.monotonic() + 60
    while not back and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 1 if sends else 2)
        if not ready:
            sock.sendall(frame(marker))
            sends += 1
            continue
        chunk = sock.recv(1 << 20)
        if not chunk:
            print(f"closed by tcp2udp after {empty} empty echoes", flush=True)
            return 1
        received += chunk
        at = 0
        while len(received) - at >= 2:
            (length,) = struct.unpack_from(">H", received, at)
            if len(received) - at < 2 + length:
                break
            payload = received[at + 2:at + 2 + length]
            at += 2 + length
            back = back or payload == marker
            empty += 0 if payload else 1
        received = received[at:]
    print(f"zero_frames={count} empty_echoes={empty} marker_sends={sends} marker_back={back}", flush=True)
    return 0 if back else 1


def cmd_frames(args):
    """Talks the framing directly: sends frames (random ones of --size, or --payloads in hex)
    after an optional --prefix, and checks each echo (from --udp-forward) unless --no-echo."""
    sock = tcp_connect(args.to, timeout=args.timeout, source=args.source)
    deadline = time.monotonic() + args.timeout
    if args.prefix:
        sock.sendall(bytes.fromhex(args.prefix))
    if args.zero_frames:
        return zero_frames(sock, args.zero_frames)
    if args.payloads:
        payloads = [bytes.fromhex(text) for text in args.payloads.split(",")]
    else:
        payloads = [os.urandom(args.size) for _ in range(args.count)]
    for index, payload in enumerate(payloads):
        data = frame(payload)
        if args.split_every:
            for byte in data:
                sock.sendall(bytes([byte]))
                time.sleep(args.split_every / 1000)
        else:
            sock.sendall(data)
        if args.no_echo:
            continue
        try:
            (length,) = struct.unpack(">H", read_exact(sock, 2, deadline))
            echoed = read_exact(sock, length, deadline)
        except (TimeoutError, EOFError, OSError) as error:
            print(f"frame {index}: {error}", flush=True)
            return 1
        if echoed != payload:
            print(f"frame {index}: echo differs: sent {payload[:16].hex()} got {echoed[:16].hex()}", flush=True)
            return 1
    print(f"frames={len(payloads)} ok", flush=True)
    return 0


def cmd_garbage(args):
    """CONNECTIONS connections each write BYTES seeded random bytes as fast as they are taken,
    never reading; then each is closed."""
    rng = random.Random(args.seed)
    sel = selectors.DefaultSelector()
    pending = {}
    for _ in range(args.connections):
        sock = tcp_connect(args.to)
        sock.setblocking(False)
        pending[sock] = memoryview(rng.randbytes(args.bytes))
        sel.register(sock, selectors.EVENT_WRITE)
    deadline = time.monotonic() + 30
    closed_early = 0
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            sock = key.fileobj
            try:
                sent = sock.send(pending[sock][:65536])
                pending[sock] = pending[sock][sent:]
            except (BrokenPipeError, ConnectionResetError):
                closed_early += 1
                pending[sock] = pending[sock][:0]
            if not len(pending[sock]):
                sel.unregister(sock)
                del pending[sock]
                sock.close()
    print(f"connections={args.connections} unfinished={len(pending)} closed_early={closed_early}", flush=True)
    return 1 if pending else 0


def cmd_zero_bursts(args):
    """CONNECTIONS connections each write FRAMES zero-length frames at once (2 bytes each),
    never reading, then wait until tcp2udp has had time to forward them and close."""
    socks = [tcp_connect(args.to, timeout=10) for _ in range(args.connections)]
    for sock in socks:
        sock.sendall(b"\0\0" * args.frames)
    time.sleep(3)
    for sock in socks:
        sock.close()
    print(f"connections={args.connections} frames_each={args.frames}", flush=True)
    return 0


def cmd_hold(args):
    """Opens COUNT connections, keeps them, and reports how many the server closed at once
    (held=N closed=N); with --stop-file or after --seconds, reports how many are still open."""
    socks, refused = [], 0
    for _ in range(args.count):
        try:
            sock = tcp_connect(args.to)
            if args.send_frame:
                sock.sendall(frame(b"held"))
            if args.partial_frame:
                sock.sendall(struct.pack(">H", 65507) + b"p" * args.partial_frame)
            socks.append(sock)
        except OSError:
            refused += 1
    time.sleep(1)
    alive = [sock for sock in socks if not closed_by_peer(sock, 0)]
    held = len(alive)
    print(f"held={held} closed={len(socks) - held} refused={refused} ", flush=True)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        time.sleep(0.2)
    still_open = sum(0 if closed_by_peer(sock, 0) else 1 for sock in alive)
    print(f"still_open={still_open} ", flush=True)
    for sock in socks:
        sock.close()
    return 0 if args.expect_held is None or held == args.expect_held else 1


def cmd_drip(args):
    """COUNT connections, each announcing a 1400-byte frame and then trickling one random byte
    every 100-500 ms (never a whole frame) for SECONDS; reports how many the server closed."""
    rng = random.Random(args.seed)
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    due, closed_at, sent = {}, [], 0
    for _ in range(args.count):
        sock = tcp_connect(args.to)
        sock.sendall(struct.pack(">H", 1400))
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ)
        due[sock] = time.monotonic() + rng.uniform(0.1, 0.5)
    deadline = start + args.seconds
    while due and time.monotonic() < deadline:
        wait = max(0, min(min(due.values()), deadline) - time.monotonic())
        for key, _ in sel.select(timeout=wait):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            if not data and sock in due:
                closed_at.append(time.monotonic() - start)
                sel.unregister(sock)
                del due[sock]
        now = time.monotonic()
        for sock in [s for s, t in due.items() if t <= now]:
            try:
                sent += sock.send(bytes([rng.randrange(256)]))
                due[sock] = now + rng.uniform(0.1, 0.5)
            except (BrokenPipeError, ConnectionResetError):
                closed_at.append(now - start)
                sel.unregister(sock)
                del due[sock]
    last = f"{max(closed_at):.1f}" if closed_at else "-"
    print(f"closed={len(closed_at)} open={len(due)} bytes_sent={sent} last_close_s={last} ", flush=True)
    return 0


def cmd_server(args):
    """A malicious udp-over-tcp server for udp2tcp: accepts for SECONDS and misbehaves per MODE.
    Logs `accept T` for every connection attempt and `peer-closed T` when udp2tcp hangs up."""
    rng = random.Random(args.seed)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(parse_addr(args.listen)[1])
    listener.listen(64)
    print("server ready", flush=True)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        listener.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            break
        print(f"accept {time.monotonic():.3f}", flush=True)
        serve(sock, args.mode, rng, deadline)
    return 0


def serve(sock, mode, rng, deadline):
    """One connection, handled to its end (udp2tcp keeps one connection at a time)."""
    hold = min(deadline, time.monotonic() + 10)
    try:
        if mode == "close":
            sock.close()
            return
        if mode == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        if mode == "oversized":
            sock.sendall(b"\xff\xff" + rng.randbytes(100))
        elif mode == "garbage":
            # Random bytes mostly parse as frames of random lengths; udp2tcp must survive them.
            sock.sendall(rng.randbytes(256 << 10))
        elif mode == "truncated":
            sock.sendall(struct.pack(">H", 1000) + b"x" * 10)
            sock.close()
            return
        elif mode in ("huge", "zeros"):
            payload = frame(rng.randbytes(65507)) * 16 if mode == "huge" else b"\0\0" * (512 << 10)
            if mode == "zeros":
                time.sleep(2)  # lets the test read udp2tcp's VmRSS before the flood
            sent, limit = 0, 512 << 20
            sock.settimeout(5)
            try:
                while sent < limit and time.monotonic() < hold:
                    sent += sock.send(payload)
            except (socket.timeout, BrokenPipeError, ConnectionResetError) as error:
                print(f"stream stopped: {type(error).__name__}", flush=True)
            print(f"sent={sent}", flush=True)
        sock.settimeout(max(0.01, hold - time.monotonic()))
        try:
            while sock.recv(65536):
                pass
            print(f"peer-closed {time.monotonic():.3f}", flush=True)
        except socket.timeout:
            print(f"held-open {time.monotonic():.3f}", flush=True)
        except ConnectionResetError:
            print(f"peer-closed {time.monotonic():.3f}", flush=True)
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("echo"); p.add_argument("listen"); p.add_argument("--quiet", action="store_true")
    p = sub.add_parser("sink"); p.add_argument("listen")
    p = sub.add_parser("send"); p.add_argument("text"); p.add_argument("to", nargs="+"); p.add_argument("--source")
    p = sub.add_parser("roundtrip"); p.add_argument("to"); p.add_argument("sizes", type=int, nargs="+")
    p.add_argument("--timeout", type=float, default=0.5); p.add_argument("--deadline", type=float, default=15)
    p = sub.add_parser("flood"); p.add_argument("to"); p.add_argument("sizes", type=int, nargs="+")
    p.add_argument("--count", type=int, default=1000); p.add_argument("--seconds", type=float, default=20)
    p = sub.add_parser("burst"); p.add_argument("to"); p.add_argument("--count", type=int, default=100)
    p.add_argument("--deadline", type=float, default=15)
    p = sub.add_parser("paced"); p.add_argument("to"); p.add_argument("--count", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.01)
    p = sub.add_parser("raw"); p.add_argument("to"); p.add_argument("hex")
    p.add_argument("--close", action="store_true"); p.add_argument("--shutdown", action="store_true")
    p.add_argument("--expect", choices=["closed", "open"], default="closed"); p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("oversized"); p.add_argument("to"); p.add_argument("--count", type=int, default=100)
    p = sub.add_parser("frames"); p.add_argument("to"); p.add_argument("--count", type=int, default=5)
    p.add_argument("--size", type=int, default=100); p.add_argument("--payloads"); p.add_argument("--prefix")
    p.add_argument("--source"); p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--split-every", type=float, default=0); p.add_argument("--no-echo", action="store_true")
    p.add_argument("--zero-frames", type=int, default=0)
    p = sub.add_parser("garbage"); p.add_argument("to"); p.add_argument("--connections", type=int, default=10)
    p.add_argument("--bytes", type=int, default=1 << 20); p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("hold"); p.add_argument("to"); p.add_argument("--count", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10); p.add_argument("--stop-file"); p.add_argument("--expect-held", type=int)
    p.add_argument("--send-frame", action="store_true"); p.add_argument("--partial-frame", type=int, default=0)
    p = sub.add_parser("zero-bursts"); p.add_argument("to"); p.add_argument("--connections", type=int, default=10)
    p.add_argument("--frames", type=int, default=200000)
    p = sub.add_parser("drip"); p.add_argument("to"); p.add_argument("--count", type=int, default=50)
    p.add_argument("--seconds", type=float, default=10); p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("server"); p.add_argument("listen"); p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--mode", required=True, choices=["close", "reset", "oversized", "garbage", "truncated", "huge", "zeros"])
    p.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return globals()["cmd_" + args.command.replace("-", "_")](args) or 0


if __name__ == "__main__":
    sys.exit(main())
