#!/usr/bin/env python3
"""Checks the guest-agent stand-in (scripts/lib/dstack-agent.py) with the official client,
dstack-sdk's DstackClient, so the stand-in answers what the real agent's clients expect.
Run it with a Python that has dstack-sdk (scripts/lib/dstack.sh: dstack_sdk_python).

  check-dstack-sdk.py --self-test
      starts its own stand-ins (Unix socket and 127.0.0.1, plain and chunked answers, two
      instances of one app and one of another app, and each fault mode) and checks them all
  check-dstack-sdk.py --endpoint E --app-id HEX --instance-id HEX [--node NAME]
      checks a stand-in that already runs at E (a socket path or http://127.0.0.1:PORT)

Prints one indented line per check (with --quiet only the failed ones and a count) and exits 1
if any failed.
"""

import argparse
import asyncio
import base64
import os
import re
import subprocess
import sys
import tempfile
import time

from dstack_sdk import AsyncDstackClient, DstackClient
from dstack_sdk.dstack_client import TcbInfoV05x, replay_rtmr

AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dstack-agent.py")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
failures = 0
passes = 0
quiet = False


def result(ok, what, detail=""):
    global failures, passes
    if not ok:
        failures += 1
    else:
        passes += 1
        if quiet:
            return ok
    print(f"  {'ok' if ok else 'not ok'} - {what}" + (f" ({detail})" if detail and not ok else ""), flush=True)
    return ok


def attempt(what, fn):
    """Runs fn; an exception is a failed check named `what`."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 - any failure of the client is the check's failure
        result(False, what, f"{type(error).__name__}: {error}")
        return None


def agent(*args):
    return subprocess.run([sys.executable, AGENT, *args], check=True, capture_output=True, text=True,
                          timeout=30).stdout.strip()


def wireguard_path(node):
    return f"dstack-vpn/wireguard/{node}"


def check_endpoint(endpoint, app_id, instance_id, node="node-a", label=None):
    """The official client reads Info and GetKey from a running stand-in. Returns the key (hex)."""
    label = label or endpoint
    client = DstackClient(endpoint)
    info = attempt(f"{label}: info()", client.info)
    if info is not None:
        result(True, f"{label}: info() parses (InfoResponse with TcbInfoV05x)")
        result(info.app_id == app_id and HEX40.match(info.app_id) is not None,
               f"{label}: app_id is the app's, 40 hex digits without 0x", info.app_id)
        result(info.instance_id == instance_id and HEX40.match(info.instance_id) is not None,
               f"{label}: instance_id is the instance's, 40 hex digits without 0x", info.instance_id)
        tcb = info.tcb_info
        result(isinstance(tcb, TcbInfoV05x) and len(tcb.event_log) > 0
               and all(HEX64.match(v) for v in (tcb.compose_hash, tcb.device_id, tcb.mr_aggregated,
                                                 tcb.os_image_hash, info.compose_hash, info.device_id)),
               f"{label}: tcb_info (a JSON string) parses, with its hashes in hex")
        events = {e.event: e.event_payload for e in tcb.event_log if e.imr == 3}
        result(events.get("app-id") == app_id and events.get("instance-id") == instance_id
               and events.get("compose-hash") == info.compose_hash,
               f"{label}: RTMR3's event log names the app, the instance and the compose hash")
        result(replay_rtmr([e.digest for e in tcb.event_log if e.imr == 3]) == tcb.rtmr3,
               f"{label}: replaying the event log gives RTMR3")
        result(bool(info.app_name) and bool(info.key_provider_info) and bool(info.vm_config),
               f"{label}: app_name, key_provider_info and vm_config are filled")
    path = wireguard_path(node)
    first = attempt(f"{label}: get_key({path!r}, 'wireguard')", lambda: client.get_key(path, "wireguard"))
    if first is None:
        return None
    expected = agent("derive", "--app-id", app_id, "--path", path)
    result(first.key == expected, f"{label}: the key is the `derive` output", f"{first.key} != {expected}")
    result(len(first.decode_key()) == 32, f"{label}: the key is 32 bytes")
    chain = first.decode_signature_chain()
    result(len(chain) == 2 and all(len(s) == 65 for s in chain),
           f"{label}: signature_chain holds two 65-byte hex strings")
    again = attempt(f"{label}: get_key again", lambda: client.get_key(path, "another purpose"))
    if again is not None:
        result(again.key == first.key, f"{label}: the same path gives the same key (any purpose)")
    other = attempt(f"{label}: get_key of another path", lambda: client.get_key(wireguard_path(node + "-x")))
    if other is not None:
        result(other.key != first.key, f"{label}: another path gives another key")
    asynchronous = attempt(f"{label}: AsyncDstackClient.get_key",
                           lambda: asyncio.run(AsyncDstackClient(endpoint).get_key(path, "wireguard")))
    if asynchronous is not None:
        result(asynchronous.key == first.key, f"{label}: the async client gets the same key")
    public = agent("wg-public-key", "--app-id", app_id, "--node", node)
    private = agent("wg-private-key", "--app-id", app_id, "--node", node)
    result(base64.b64decode(private) == first.decode_key()[:32],
           f"{label}: wg-private-key is the first 32 bytes of the key, in base64")
    try:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    except ImportError:
        return first.key
    derived = attempt(f"{label}: X25519 of wg-private-key",
                      lambda: X25519PrivateKey.from_private_bytes(base64.b64decode(private)).public_key())
    if derived is not None:
        independent = base64.b64encode(derived.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        result(public == independent, f"{label}: wg-public-key matches an independent X25519 (cryptography)",
               f"{public} != {independent}")
    return first.key


class Agents:
    """Stand-ins started for the self-test; all stopped at the end."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = []

    def start(self, name, app_id, instance_id, mode="ok", tcp=False):
        where = ["--listen", "127.0.0.1:0"] if tcp else ["--socket", os.path.join(self.directory, name + ".sock")]
        log = open(os.path.join(self.directory, name + ".log"), "w")
        process = subprocess.Popen([sys.executable, AGENT, *where, "--app-id", app_id, "--instance-id", instance_id,
                                    "--mode", mode], stdout=subprocess.PIPE, stderr=log, text=True)
        self.processes.append(process)
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline and not line:
            line = process.stdout.readline().strip()
        if not line.startswith("ready "):
            raise RuntimeError(f"stand-in {name} did not become ready")
        where = line.split(" ", 1)[1]
        return f"http://{where}" if tcp else where

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def expect_failure(label, fn):
    try:
        value = fn()
    except Exception as error:  # noqa: BLE001
        return result(True, f"{label}: the official client fails ({type(error).__name__})")
    return result(False, f"{label}: the official client fails", f"it returned {value!r:.80}")


def self_test():
    app = "5d9a3c7e1f0b2a4c6e8d0f1a3b5c7d9e0f2a4b6c"
    other_app = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    instances = [f"{n:02x}" * 20 for n in (0x11, 0x22, 0x33, 0x44, 0x55)]
    with tempfile.TemporaryDirectory() as directory:
        agents = Agents(directory)
        try:
            keys = {}
            for label, name, instance, mode, tcp in (
                ("socket", "socket", instances[0], "ok", False),
                ("http", "http", instances[1], "ok", True),
                ("socket, chunked", "chunked", instances[2], "chunked", False),
                ("http, chunked", "http-chunked", instances[3], "chunked", True),
            ):
                endpoint = agents.start(name, app, instance, mode=mode, tcp=tcp)
                keys[label] = check_endpoint(endpoint, app, instance, label=label)
            result(len(set(keys.values())) == 1 and None not in keys.values(),
                   "every instance of the app gets the same key")
            other = agents.start("other-app", other_app, instances[4])
            other_key = check_endpoint(other, other_app, instances[4], label="another app")
            result(other_key is not None and other_key not in keys.values(), "another app gets another key")

            faulty = {mode: agents.start(mode, app, instances[0], mode=mode)
                      for mode in ("http-500", "garbage", "not-http", "hang", "short-key", "bad-key")}
            path = wireguard_path("node-a")
            quick = {mode: DstackClient(endpoint, timeout=1) for mode, endpoint in faulty.items()}
            for mode in ("http-500", "garbage", "not-http", "hang"):
                expect_failure(f"{mode} GetKey", lambda m=mode: quick[m].get_key(path, "wireguard"))
                expect_failure(f"{mode} Info", lambda m=mode: quick[m].info())
            short = attempt("short-key GetKey", lambda: quick["short-key"].get_key(path, "wireguard"))
            result(short is not None and len(short.decode_key()) == 16, "short-key: the key is 16 bytes")
            expect_failure("bad-key decode_key",
                           lambda: quick["bad-key"].get_key(path, "wireguard").decode_key())
            expect_failure("a missing socket", lambda: DstackClient(os.path.join(directory, "none.sock")).info())
        finally:
            agents.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--endpoint")
    parser.add_argument("--app-id")
    parser.add_argument("--instance-id")
    parser.add_argument("--node", default="node-a")
    parser.add_argument("--quiet", action="store_true")
    options = parser.parse_args()
    global quiet
    quiet = options.quiet
    if options.self_test:
        self_test()
    elif options.endpoint and options.app_id and options.instance_id:
        check_endpoint(options.endpoint, options.app_id, options.instance_id, options.node)
    else:
        parser.error("--self-test, or --endpoint with --app-id and --instance-id")
    if quiet:
        print(f"  {passes} checks with the official client passed, {failures} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
