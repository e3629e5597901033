#!/usr/bin/env python3
"""Delay wire: a userspace Ethernet cable that holds every frame for a fixed time.

Usage: delay-wire.py IFACE_A IFACE_B DELAY_MS

Copies every frame received on IFACE_A to IFACE_B and vice versa, each DELAY_MS after
it arrived (so a link through the wire gains 2 x DELAY_MS of round-trip time). It works
below IP, so TCP, UDP/QUIC, ARP and NAT behave as on a real long cable.

Why this exists: the test kernel has no netem (and no fq/etf qdisc to honour eBPF
departure times), so delay cannot be added inside the kernel. Node.js cannot open
AF_PACKET sockets; Python's standard library can.

Control: each line on stdin "delay MS" changes the delay. EOF on stdin (the owning test
process died) makes the wire exit, so it never outlives its topology.
Prints "ready" once both sockets are bound.
"""
import collections
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAX_QUEUED = 200_000  # frames per direction; beyond that the wire drops like a full queue


def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def main():
    name_a, name_b, delay = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0
    sock_a, sock_b = open_socket(name_a), open_socket(name_b)
    # Per direction: frames waiting for their departure time, in arrival order.
    route = {sock_a: (name_a, sock_b, collections.deque()), sock_b: (name_b, sock_a, collections.deque())}
    stdin = sys.stdin.buffer.raw
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    control = b''
    while True:
        now = time.monotonic()
        due = [q[0][0] for (_, _, q) in route.values() if q]
        timeout = max(0.0, min(due) - now) if due else None
        readable, _, _ = select.select([sock_a, sock_b, stdin], [], [], timeout)
        now = time.monotonic()
        for s in readable:
            if s is stdin:
                chunk = stdin.read(4096)
                if not chunk:
                    return
                control += chunk
                while b'\n' in control:
                    line, control = control.split(b'\n', 1)
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == b'delay':
                        delay = float(parts[1]) / 1000.0
                continue
            ifname, _, queue = route[s]
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                # Our own transmissions and frames seen before bind() completed are not input.
                if addr[0] != ifname or addr[2] == PACKET_OUTGOING:
                    continue
                if len(queue) < MAX_QUEUED:
                    queue.append((now + delay, frame))
        for (_, out, queue) in route.values():
            while queue and queue[0][0] <= now:
                frame = queue.popleft()[1]
                try:
                    out.send(frame)
                except OSError:
                    pass  # a full qdisc (tbf) or a downed link drops the frame, as a cable would


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
