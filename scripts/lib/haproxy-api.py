#!/usr/bin/env python3
"""Sends one command to haproxy's runtime API (its `stats socket`) and prints the answer.
Usage: haproxy-api.py SOCKET COMMAND...
When HAPROXY_API_SENT_AT names a file, the time the command was sent (seconds since the epoch,
the clock of bash's EPOCHREALTIME) is written there as soon as the answer is in; when it is a
fifo, its reader learns that moment too."""
import os
import socket
import sys
import time

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
    connection.settimeout(5)
    connection.connect(sys.argv[1])
    sent = time.time()
    connection.sendall(" ".join(sys.argv[2:]).encode() + b"\n")
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    if os.environ.get("HAPROXY_API_SENT_AT"):
        with open(os.environ["HAPROXY_API_SENT_AT"], "w") as stamp:
            stamp.write(f"{sent:.6f}\n")
sys.stdout.write(answer.decode(errors="replace"))
