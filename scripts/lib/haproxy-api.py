#!/usr/bin/env python3
"""Sends one command to haproxy's runtime API (its `stats socket`) and prints the answer.
Usage: haproxy-api.py SOCKET COMMAND..."""
import socket
import sys

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
    connection.settimeout(5)
    connection.connect(sys.argv[1])
    connection.sendall(" ".join(sys.argv[2:]).encode() + b"\n")
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
sys.stdout.write(answer.decode(errors="replace"))
