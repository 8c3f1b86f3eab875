#!/usr/bin/env python3
"""The host's half of tests/guest/net-stack.test (the guest runs
tests/guest/net-stack.c):

  udp-echo HOST PORT      datagrams of many sizes (up to 65507 bytes) must
                          come back intact
  wait ADDR SECONDS       until the guest answers a ping
  ping ADDR               ICMP echo of 56, 4000 and 65507 bytes (raw
                          socket: root)
  garbage IFNAME MAC ADDR malformed frames through the tap device
                          (AF_PACKET: root)
  quit HOST PORT          tells the guest's echo server to stop

Prints TAP lines without numbers ("ok - ...", "not ok - ..."); the shell
test numbers them.  Exit status 0 when every check passed.
"""
import os
import random
import socket
import struct
import sys
import time

failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what, flush=True)
    if not cond:
        failed = 1


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_echo(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(2)
    rnd = random.Random(7)
    for size in (1, 100, 1472, 1473, 4000, 30000, 65507):
        data = bytes(rnd.getrandbits(8) for _ in range(size))
        got = None
        for _ in range(5):  # user networking should not lose; be patient anyway
            try:
                s.sendto(data, (host, port))
                got, _ = s.recvfrom(70000)
                break
            except socket.timeout:
                continue
        check(got == data, "UDP echo of %d bytes" % size)


def quit_server(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    for _ in range(10):
        s.sendto(b"quit", (host, port))
        try:
            if s.recvfrom(100)[0] == b"quit":
                return
        except socket.timeout:
            pass


def ping(addr, sizes=(56, 4000, 65507), tries=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(2)
    ident = os.getpid() & 0xFFFF
    for seq, size in enumerate(sizes):
        payload = bytes((i * 13) & 0xFF for i in range(size))
        msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        good = False
        for _ in range(tries):
            s.sendto(msg, (addr, 0))
            end = time.time() + 2
            while time.time() < end and not good:
                try:
                    pkt, _ = s.recvfrom(70000)
                except socket.timeout:
                    break
                ihl = (pkt[0] & 15) * 4
                icmp = pkt[ihl:]
                if (len(icmp) >= 8 and icmp[0] == 0 and
                        struct.unpack("!HH", icmp[4:8]) == (ident, seq)):
                    good = icmp[8:] == payload and csum(icmp) == 0
            if good:
                break
        check(good, "ping of %d bytes answered intact" % size)


def wait_ping(addr, seconds):
    """Waits until the guest answers a small ping."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(0.5)
    msg = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"hello"
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    end = time.time() + seconds
    while time.time() < end:
        try:
            s.sendto(msg, (addr, 0))
            pkt, _ = s.recvfrom(2000)
            if pkt[(pkt[0] & 15) * 4] == 0:
                return True
        except (socket.timeout, OSError):
            time.sleep(0.2)
    return False


def garbage(ifname, mac, addr):
    """Malformed frames of every kind the stack must count and drop."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    dst = bytes(int(x, 16) for x in mac.split(":"))
    src = bytes([0x02, 0, 0, 0, 0xEE, 0x01])
    gaddr = socket.inet_aton(addr)
    haddr = socket.inet_aton("192.168.77.1")

    def eth(payload, typ=0x0800, to=dst):
        s.send(to + src + struct.pack("!H", typ) + payload)

    def ip(payload, proto=17, ident=1, frag=0, ttl=64, ver=0x45, total=None,
           fix_sum=True):
        h = struct.pack("!BBHHHBBH4s4s", ver, 0,
                        total if total is not None else 20 + len(payload),
                        ident, frag, ttl, proto, 0, haddr, gaddr)
        if fix_sum:
            h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return h + payload

    def udp(data, sport=5555, dport=7, length=None, good_sum=True):
        ln = length if length is not None else 8 + len(data)
        h = struct.pack("!HHHH", sport, dport, ln, 0)
        ph = haddr + gaddr + struct.pack("!BBH", 0, 17, 8 + len(data))
        c = csum(ph + h + data) or 0xFFFF
        if not good_sum:
            c ^= 0x5555
        return struct.pack("!HHHH", sport, dport, ln, c) + data

    rnd = random.Random(3)
    for _ in range(20):
        eth(b"", typ=0x0800)                       # no IP header at all
        eth(b"\0" * 46, typ=0x86DD)                # IPv6: unknown type
        eth(ip(udp(b"x"), ver=0x65))               # version 6
        eth(ip(udp(b"x"), ver=0x44))               # IHL 4
        eth(ip(udp(b"x"), ver=0x4F))               # IHL past the packet
        eth(ip(udp(b"x"), total=1400))             # total length past the frame
        eth(ip(udp(b"x"), fix_sum=False))          # header checksum 0
        eth(ip(udp(b"x"), ttl=0))                  # TTL 0: taken (RFC 1122 3.2.1.7)
        eth(ip(b"\0" * 5))                         # UDP header cut short
        eth(ip(udp(b"x", length=300)))             # UDP length past the packet
        eth(ip(udp(b"hello", good_sum=False)))     # UDP checksum
        eth(ip(b"\x08\0\0\0\0\0\0\0", proto=1))    # ICMP checksum
        eth(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 200))))
    # Overlapping fragments, a ping of death, fragments never completed.
    data = udp(bytes(2000))
    for i in range(10):
        eth(ip(data[:1480], ident=100 + i, frag=0x2000))
        eth(ip(data[1472:], ident=100 + i, frag=1472 // 8))
        eth(ip(data[:1480], ident=200 + i, frag=0x2000))
        eth(ip(b"\0" * 100, ident=200 + i, frag=65528 // 8))
        eth(ip(data[:8], ident=300 + i, frag=0x2000 | (i * 2)))
    # An ARP storm: requests for the guest from 3000 made-up hosts, and junk.
    for i in range(3000):
        smac = bytes([0x02, 0x10, 0, i >> 16 & 255, i >> 8 & 255, i & 255])
        sip = bytes([10, 99, i >> 8 & 255, i & 255])
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + smac + sip + b"\0" * 6 + gaddr
        eth(arp + b"\0" * 18, typ=0x0806, to=b"\xff" * 6)
        if i % 10 == 0:
            eth(struct.pack("!HHBBH", 1, 0x0800, 8, 4, 1) + b"\0" * 40, typ=0x0806)
    check(True, "sent 14 kinds of malformed frames, bad fragments and an ARP storm")


def main():
    cmd = sys.argv[1]
    if cmd == "udp-echo":
        udp_echo(sys.argv[2], int(sys.argv[3]))
    elif cmd == "quit":
        quit_server(sys.argv[2], int(sys.argv[3]))
    elif cmd == "wait":
        check(wait_ping(sys.argv[2], float(sys.argv[3])), "the guest answers ping")
    elif cmd == "ping":
        ping(sys.argv[2])
    elif cmd == "garbage":
        garbage(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
    sys.exit(failed)


if __name__ == "__main__":
    main()
