#!/usr/bin/env python3
"""Minimal DNS upstream (UDP) for scripts/bench-broker.sh: answers A queries for names under
broker.test with 127.0.0.1, NXDOMAIN for everything else. The Swift tests use
DNSUpstreamRecorder instead.

Usage: dns_upstream.py HOST   -- prints `port=P` then `ready`; runs until stdin closes.
"""
import socket
import struct
import sys
import threading


def answer(m):
    if len(m) < 17:
        return None
    i, labels = 12, []
    while i < len(m) and m[i] != 0:
        n = m[i]
        labels.append(m[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    i += 1
    if i + 4 > len(m):
        return None
    qtype = struct.unpack(">H", m[i:i + 2])[0]
    name = ".".join(labels).lower()
    head = bytearray(m[:i + 4])
    head[2] = 0x84 | (m[2] & 1)
    head[3] = 0x80
    head[6:12] = b"\0" * 6
    if not (name == "broker.test" or name.endswith(".broker.test")):
        head[3] = 0x83
        return bytes(head)
    if qtype != 1:
        return bytes(head)
    head[7] = 1
    return bytes(head) + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + bytes([127, 0, 0, 1])


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 0))
    print("port=%d" % s.getsockname()[1], flush=True)
    print("ready", flush=True)

    def serve():
        while True:
            m, peer = s.recvfrom(2048)
            r = answer(m)
            if r:
                s.sendto(r, peer)
    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
