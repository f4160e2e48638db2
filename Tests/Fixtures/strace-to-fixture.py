#!/usr/bin/env python3
"""Turns `strace -e write=FDS -e read=FDS -xx` output (stdin) into fixture messages (stdout).

Usage: strace-to-fixture.py MODE [FAMILY], MODE one of
  first-sent   the first sendmsg
  last-sent    the last sendto/sendmsg
  all-sent     every sendmsg, in order
  all-received every recvmsg that returned data, in order
With FAMILY (a name strace prints as nlmsg_type=FAMILY, e.g. nlctrl), only the calls on the
socket that first sent such a message count, from that message on, and sendto counts as well
as sendmsg.
Each datagram is printed as hex, 16 bytes a line, datagrams separated by a blank line.
Every netlink header's nlmsg_seq is normalised to 1 and nlmsg_pid to 0 (including the request
header an NLMSG_ERROR echoes), so fixtures do not depend on the run.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_hex import print_datagrams  # noqa: E402

mode = sys.argv[1]
family = sys.argv[2] if len(sys.argv) > 2 else None
lines = sys.stdin.read().splitlines()
calls = ("sendto(", "sendmsg(", "recvmsg(", "recvfrom(")
fd = None
if family:
    start = next(index for index, line in enumerate(lines)
                 if line.startswith(("sendto(", "sendmsg(")) and f"nlmsg_type={family}" in line)
    fd = lines[start].split("(")[1].split(",")[0]
    lines = lines[start:]
sent, received, current = [], [], None
for line in lines:
    if line.startswith(calls):
        current = []
        if fd is not None and line.split("(")[1].split(",")[0] != fd:
            current = None
        elif line.startswith("recv"):
            if "MSG_PEEK" not in line:
                received.append(current)
        elif line.startswith("sendmsg(") or mode == "last-sent" or family:
            sent.append(current)
    elif line.startswith(" | ") and current is not None:
        current.extend(int(x, 16) for x in line[10:58].split())


def normalise(data):
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("<IH", data, offset)
        struct.pack_into("<II", data, offset + 8, 1, 0)
        if kind == 2 and offset + 36 <= len(data):  # NLMSG_ERROR echoes the request header
            struct.pack_into("<II", data, offset + 28, 1, 0)
        if length < 16:
            break
        offset += (length + 3) & ~3


picked = {
    "first-sent": sent[:1],
    "last-sent": sent[-1:],
    "all-sent": sent,
    "all-received": [r for r in received if r],
}[mode]
print_datagrams(picked, normalise)
