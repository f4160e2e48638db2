"""The fixture text both strace converters print: each datagram, normalised in place by the
caller's function, as hex, 16 bytes a line, datagrams separated by a blank line."""


def print_datagrams(datagrams, normalise):
    blocks = []
    for datagram in datagrams:
        data = bytearray(datagram)
        normalise(data)
        blocks.append("\n".join(" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)))
    print("\n\n".join(blocks))
