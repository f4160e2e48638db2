#!/usr/bin/env python3
"""Turns `strace -e write=FD -e read=FD -xx` output of `nft -f FILE` (stdin) into a fixture.

Usage: batch-to-fixture.py MODE, MODE one of
  batch     the last sendmsg: the NFNL_MSG_BATCH_BEGIN ... BATCH_END datagram nft sends
  replies   every recvmsg that returned data after that sendmsg (the kernel's per-message errors)
  describe  like batch, but one line per message (type, flags, seq) instead of bytes
Sequence numbers are made relative to the batch's first message (BATCH_BEGIN becomes 0, the
next message 1, ...), in the headers and in the request header an NLMSG_ERROR echoes, and every
nlmsg_pid becomes 0, so fixtures do not depend on the run. Each datagram is printed as hex,
16 bytes a line, datagrams separated by a blank line.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fixture_hex import print_datagrams  # noqa: E402

mode = sys.argv[1]
calls = ("sendto(", "sendmsg(", "recvmsg(", "recvfrom(")
datagrams = []  # (kind, bytes) in order
current = None
for line in sys.stdin.read().splitlines():
    if line.startswith(calls):
        current = bytearray()
        datagrams.append(("send" if line.startswith("send") else "recv", current))
    elif line.startswith(" | ") and current is not None:
        current.extend(int(x, 16) for x in line[10:58].split())

batch_index = max(i for i, (kind, data) in enumerate(datagrams) if kind == "send")
batch = datagrams[batch_index][1]
base = struct.unpack_from("<I", batch, 8)[0]


def messages(data):
    offset = 0
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset)[0]
        yield offset, length
        if length < 16:
            break
        offset += (length + 3) & ~3


def normalise(data):
    for offset, length in messages(data):
        kind = struct.unpack_from("<H", data, offset + 4)[0]
        seq = struct.unpack_from("<I", data, offset + 8)[0]
        struct.pack_into("<II", data, offset + 8, (seq - base) & 0xFFFFFFFF, 0)
        if kind == 2 and offset + 36 <= len(data):  # NLMSG_ERROR echoes the request header
            seq = struct.unpack_from("<I", data, offset + 28)[0]
            struct.pack_into("<II", data, offset + 28, (seq - base) & 0xFFFFFFFF, 0)


if mode == "describe":
    for offset, length in messages(batch):
        kind, flags, seq = struct.unpack_from("<HHI", batch, offset + 4)
        print(f"type=0x{kind:04x} flags=0x{flags:04x} seq={seq - base} len={length}")
    sys.exit(0)

picked = {
    "batch": [batch],
    "replies": [data for kind, data in datagrams[batch_index + 1:] if kind == "recv" and data],
}[mode]
print_datagrams(picked, normalise)
