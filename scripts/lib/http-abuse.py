#!/usr/bin/env python3
"""Clients that misuse vpn-init's metrics listener (VPN_METRICS_LISTEN), for scripts/test-metrics.
Every loop is bounded in count and time; they talk only to the ADDRESS given (127.0.0.1 inside
a test's namespace).

  http-abuse.py raw ADDRESS             sends stdin's bytes as they are, then reads until the
                                        server closes (5 s at most); prints the status code of
                                        the answer, or `closed` (no answer), `reset` or `timeout`,
                                        and the time to the close
  http-abuse.py hostile ADDRESS IDLE SLOW SECONDS
                                        keeps IDLE connections open that send nothing, and SLOW
                                        connections that send a request head a byte a second,
                                        for SECONDS; a connection the server closes is opened
                                        again half a second later. Prints what it saw.
"""
import selectors
import socket
import sys
import time


def address(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def raw(target):
    payload = sys.stdin.buffer.read()
    start = time.monotonic()
    with socket.create_connection(address(target), timeout=5) as sock:
        sock.sendall(payload)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            print("reset" if not answer else answer.split(b" ", 2)[1].decode(), f"{time.monotonic() - start:.1f}")
            return 0
        except socket.timeout:
            print("timeout", f"{time.monotonic() - start:.1f}")
            return 0
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "closed"
    print(status, f"{time.monotonic() - start:.1f}")
    return 0


def hostile(target, idle, slow, seconds):
    request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: a-byte-a-second\r\n\r\n"
    selector = selectors.DefaultSelector()
    slots = [("idle", None, 0.0, 0)] * idle + [("slow", None, 0.0, 0)] * slow
    opened = closed = failed = answered = 0
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        for index, (kind, sock, due, sent) in enumerate(slots):
            if sock is None and due <= now:
                try:
                    sock = socket.create_connection(address(target), timeout=0.5)
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ, index)
                    opened += 1
                    slots[index] = (kind, sock, now + 1, 0)
                except OSError:
                    failed += 1
                    slots[index] = (kind, None, now + 0.5, 0)
            elif sock is not None and kind == "slow" and due <= now and sent < len(request):
                try:
                    sock.send(request[sent:sent + 1])
                    slots[index] = (kind, sock, now + 1, sent + 1)
                except OSError:
                    pass  # the close is seen as readable below
        for key, _ in selector.select(timeout=0.1):
            kind, sock, _, _ = slots[key.data]
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                answered += 1
            selector.unregister(sock)
            sock.close()
            closed += 1
            slots[key.data] = (kind, None, time.monotonic() + 0.5, 0)
    for kind, sock, _, _ in slots:
        if sock is not None:
            sock.close()
    print(f"opened={opened} closed_by_server={closed} answered={answered} connect_failed={failed}", flush=True)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "raw":
        return raw(sys.argv[2])
    if len(sys.argv) == 6 and sys.argv[1] == "hostile":
        return hostile(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), min(float(sys.argv[5]), 120))
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
