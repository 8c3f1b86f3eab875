#!/usr/bin/env python3
"""The host's half of tests/e2e/net-user.test and net-tap.test: talks to
the echo server of tests/e2e/netecho.c (port 7, TCP and UDP) as a real
client of the host's Linux TCP/IP stack.  Python 3 standard library only.

  bulk HOST PORT BYTES SECONDS   one connection: BYTES random bytes out
                                 while the echo comes back; prints
                                 "sha256 HEX" of what it sent
  many HOST PORT N BYTES SECONDS N connections open at once, each echoing
                                 BYTES bytes of its own
  udp HOST PORT                  datagrams of several sizes echoed
  server PORTFILE BYTES SECONDS  a TCP server on 127.0.0.1 (or $BIND) for
                                 the guest as a client: writes its port to
                                 PORTFILE, accepts one connection, echoes
                                 it and then sends the 64 hex digits of
                                 the SHA-256 of what came
  sink PORTFILE SECONDS          a TCP server on 127.0.0.1 (or $BIND) that
                                 takes one connection and reads it to the
                                 end; prints "sink-sha256 HEX BYTES" and
                                 whether the FIN came
  quit HOST PORT                 the UDP datagram that stops the guest
  garbage IFNAME MAC ADDR        malformed frames, bad TCP segments, a SYN
                                 flood and an ARP storm through the tap
                                 device IFNAME (AF_PACKET: root)
  relay GUESTIF HOSTIF SECONDS   a lossy bridge (the netem stand-in): see
                                 relay() below

Prints TAP lines without numbers ("ok - ...", "not ok - ..."), which the
shell test numbers, and "# ..." comments; exits 0 when every check passed.
Every loop is bounded in time.
"""
import errno
import fcntl
import hashlib
import os
import random
import select
import signal
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


def note(what):
    print("# " + what, flush=True)


def connect(host, port, timeout):
    """A connection, retried for a while (the guest may still be booting)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=5)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def pump(socks, datas, seconds, hold=False):
    """Sends datas[i] on socks[i] while reading the echo, and closes the
    sending side once all is out (hold: only once every connection has
    its whole echo, so that all are open at once in the guest).  Returns
    what came back on each, within seconds."""
    n = len(socks)
    sent = [0] * n
    back = [bytearray() for _ in range(n)]
    done = [False] * n
    shut = [False] * n
    for s in socks:
        s.setblocking(False)
    end = time.monotonic() + seconds
    while not all(done) and time.monotonic() < end:
        if not all(shut) and (not hold or all(len(b) >= len(d) for b, d in zip(back, datas))):
            for i, s in enumerate(socks):
                if not shut[i] and sent[i] == len(datas[i]):
                    s.shutdown(socket.SHUT_WR)
                    shut[i] = True
        rd = [s for i, s in enumerate(socks) if not done[i]]
        wr = [s for i, s in enumerate(socks) if sent[i] < len(datas[i])]
        r, w, _ = select.select(rd, wr, [], 0.2)
        for s in w:
            i = socks.index(s)
            try:
                sent[i] += s.send(datas[i][sent[i]:sent[i] + 65536])
            except BlockingIOError:
                pass
        for s in r:
            i = socks.index(s)
            try:
                b = s.recv(262144)
            except BlockingIOError:
                continue
            except OSError as e:
                note("connection %d: %s" % (i, e))
                done[i] = True
                continue
            if not b:
                done[i] = True
            back[i] += b
    return back


def bulk(host, port, nbytes, seconds):
    data = os.urandom(nbytes)
    digest = hashlib.sha256(data).hexdigest()
    print("sha256 " + digest, flush=True)
    t = time.monotonic()
    s = connect(host, port, 20)
    back = pump([s], [data], seconds)[0]
    t = time.monotonic() - t
    s.close()
    check(len(back) == nbytes and hashlib.sha256(back).hexdigest() == digest,
          "bulk: %d random bytes to %s:%d and back intact in %.1f s "
          "(%d came back, sha256 %s)" % (nbytes, host, port, t, len(back),
                                        hashlib.sha256(back).hexdigest()[:16]))


def many(host, port, n, nbytes, seconds):
    t = time.monotonic()
    socks = []
    try:
        while len(socks) < n and time.monotonic() < t + seconds / 2:
            socks.append(connect(host, port, 10))
            # QEMU's user networking listens with a backlog of 1: a SYN
            # that comes before it took the last one is dropped, and
            # Linux sends it again only a second later.
            time.sleep(0.03)
    except OSError as e:
        note("connection %d: %s" % (len(socks), e))
    check(len(socks) == n, "%d connections open at once (%d wanted) in %.1f s"
          % (len(socks), n, time.monotonic() - t))
    datas = [os.urandom(nbytes + 7 * i) for i in range(len(socks))]
    back = pump(socks, datas, seconds / 2, hold=True)
    good = sum(1 for d, b in zip(datas, back) if d == b)
    for s in socks:
        s.close()
    check(good == n, "%d of %d concurrent connections echoed their %d-%d bytes "
          "intact in %.1f s" % (good, n, nbytes, nbytes + 7 * (n - 1),
                                time.monotonic() - t))


def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    good = 0
    sizes = (1, 64, 512, 1472, 1473, 8000, 30000, 65507)
    for size in sizes:
        data = os.urandom(size)
        for _ in range(5):
            s.sendto(data, (host, port))
            try:
                got, _ = s.recvfrom(70000)
            except socket.timeout:
                continue
            if got == data:
                good += 1
                break
    check(good == len(sizes), "UDP echo of %d datagrams of 1 to 65507 bytes "
          "(%d came back intact)" % (len(sizes), good))


def server(portfile, nbytes, seconds):
    c, peer = accept_on_portfile(portfile, seconds, "server")
    if not c:
        return
    c.settimeout(5)
    h = hashlib.sha256()
    got = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                b = c.recv(65536)
            except socket.timeout:
                continue
            if not b:
                break
            h.update(b)
            got += len(b)
            c.sendall(b)
        c.sendall(h.hexdigest().encode())
    except OSError as e:
        note("server: %s after %d bytes" % (e, got))
    c.close()
    print("server-sha256 " + h.hexdigest(), flush=True)
    check(got == nbytes, "server: the guest connected from %s:%d and sent %d "
          "bytes (want %d)" % (peer[0], peer[1], got, nbytes))


def accept_on_portfile(portfile, seconds, who):
    """Listens on 127.0.0.1 (or $BIND), writes the port to PORTFILE and
    takes one connection within SECONDS: (socket, peer), or (None, None)."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((os.environ.get("BIND", "127.0.0.1"), 0))
    ls.listen(1)
    ls.settimeout(seconds)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    try:
        return ls.accept()
    except socket.timeout:
        check(False, "%s: the guest connected within %d s" % (who, seconds))
        return None, None


def sink(portfile, seconds):
    c, peer = accept_on_portfile(portfile, seconds, "sink")
    if not c:
        return
    c.settimeout(1)
    h = hashlib.sha256()
    got, eof, why = 0, False, "no FIN within %d s" % seconds
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            b = c.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            why = str(e)
            break
        if not b:
            eof = True
            break
        h.update(b)
        got += len(b)
    c.close()
    print("sink-sha256 %s %d" % (h.hexdigest(), got), flush=True)
    check(eof, "sink: the guest's connection ended with its FIN after %d bytes%s"
          % (got, "" if eof else " (" + why + ")"))


def quit_guest(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    for _ in range(20):
        s.sendto(b"quit", (host, port))
        try:
            if s.recvfrom(100)[0] == b"quit":
                return
        except socket.timeout:
            pass


# ------------------------------------------------------------ raw frames

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class Wire:
    """Frames to and from the guest through the host side of a tap device."""

    def __init__(self, ifname, gmac, gaddr):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.s.bind((ifname, 0))
        self.gmac = mac_bytes(gmac)
        self.gaddr = socket.inet_aton(gaddr)
        self.sent = 0

    def eth(self, payload, typ=0x0800, src=b"\x02\0\0\0\xee\x01", dst=None):
        frame = (dst or self.gmac) + src + struct.pack("!H", typ) + payload
        assert len(frame) <= 1514, "a frame longer than the tap device's MTU"
        for _ in range(100):
            try:
                self.s.send(frame)
                break
            except OSError as e:  # the queue is full: let QEMU drain it
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN, errno.EINTR):
                    raise
                time.sleep(0.002)
        else:
            raise OSError("cannot send a frame on the tap device")
        self.sent += 1
        if self.sent % 200 == 0:  # a tap device's queue holds 1000 frames
            time.sleep(0.02)

    def ip(self, src, payload, proto=6, ident=1, frag=0, ttl=64, ver=0x45,
           total=None, good_sum=True, options=b""):
        h = struct.pack("!BBHHHBBH4s4s", ver, 0,
                        total if total is not None else 20 + len(options) + len(payload),
                        ident, frag, ttl, proto, 0, src, self.gaddr) + options
        c = csum(h)
        if not good_sum:
            c ^= 0x1234
        return h[:10] + struct.pack("!H", c) + h[12:] + payload

    def tcp(self, src, sport, dport, seq, ack, flags, data=b"", win=65535,
            doff=5, good_sum=True, opts=b""):
        h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                        ack & 0xFFFFFFFF, doff << 4, flags, win, 0, 0) + opts
        ph = src + self.gaddr + struct.pack("!BBH", 0, 6, len(h) + len(data))
        c = csum(ph + h + data)
        if not good_sum:
            c ^= 0x4321
        return h[:16] + struct.pack("!H", c) + h[18:] + data

    def recv_tcp(self, src, sport, seconds, arp_for=None, arp_mac=None):
        """The next TCP segment from the guest to src:sport, as (seq, ack,
        flags, data), answering ARP requests for arp_for on the way."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], 0.2)
            if not r:
                continue
            f = self.s.recv(65536)
            if len(f) < 14 or f[6:12] != self.gmac:
                continue
            typ = struct.unpack("!H", f[12:14])[0]
            if typ == 0x0806 and arp_for and len(f) >= 42 and f[38:42] == arp_for \
                    and f[20:22] == b"\0\1":
                rep = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + arp_mac + arp_for + \
                    f[22:28] + f[28:32]
                self.eth(rep, typ=0x0806, src=arp_mac, dst=f[6:12])
                continue
            if typ != 0x0800 or f[23] != 6 or f[30:34] != src:
                continue
            ihl = (f[14] & 15) * 4
            t = f[14 + ihl:]
            total = struct.unpack("!H", f[16:18])[0]
            t = t[:total - ihl]
            dp = struct.unpack("!H", t[2:4])[0]
            if dp != sport:
                continue
            seq, ack = struct.unpack("!II", t[4:12])
            doff = (t[12] >> 4) * 4
            return seq, ack, t[13], t[doff:]
        return None


SYN, ACK, FIN, RST, PSH = 2, 16, 1, 4, 8


class RawConn:
    """A TCP connection to the guest made by hand from a made-up host
    (FAKE_ADDR, FAKE_MAC), so that segments can be put anywhere."""

    def __init__(self, w, addr, mac, port):
        self.w, self.src, self.mac, self.port = w, addr, mac, port
        self.sport = random.randrange(20000, 60000)
        self.snd = random.getrandbits(32)
        self.rcv = None

    def send(self, flags, data=b"", seq=None, ack=None, **kw):
        t = self.w.tcp(self.src, self.sport, self.port,
                       self.snd if seq is None else seq,
                       (self.rcv or 0) if ack is None else ack, flags, data, **kw)
        self.w.eth(self.w.ip(self.src, t), src=self.mac)

    def recv(self, seconds=3):
        return self.w.recv_tcp(self.src, self.sport, seconds, self.src, self.mac)

    def open(self):
        for _ in range(3):
            self.send(SYN, opts=b"\x02\x04\x05\xb4", doff=6)
            r = self.recv()
            if r and r[2] & (SYN | ACK) == SYN | ACK and r[1] == (self.snd + 1) & 0xFFFFFFFF:
                self.snd += 1
                self.rcv = (r[0] + 1) & 0xFFFFFFFF
                self.send(ACK)
                return True
        return False

    def echo(self, data, seconds=5):
        """Sends data in the window; True when exactly it comes back."""
        self.send(PSH | ACK, data)
        self.snd += len(data)
        back = b""
        end = time.monotonic() + seconds
        while len(back) < len(data) and time.monotonic() < end:
            r = self.recv(0.5)
            if r is None:
                continue
            seq, ack, flags, payload = r
            if flags & RST:
                return False
            if payload and seq == self.rcv:
                back += payload
                self.rcv = (self.rcv + len(payload)) & 0xFFFFFFFF
                self.send(ACK)
        if back != data:
            note("raw echo: sent %r, got %r" % (data[:40], back[:40]))
        return back == data

    def drain(self):
        """Reads what the guest still sends on this connection (a bounded
        number of segments, until it is quiet for 0.3 s)."""
        for _ in range(100):
            if self.recv(0.3) is None:
                break

    def acks_within(self, seconds):
        """Any segment from the guest on this connection within seconds."""
        return self.recv(seconds) is not None


def garbage(ifname, gmac, gaddr):
    """Malformed frames of every kind; the guest must count and drop them,
    and keep serving (the shell checks with a real connection after)."""
    w = Wire(ifname, gmac, gaddr)
    rnd = random.Random(5)
    host = socket.inet_aton("192.168.77.1")
    fake = socket.inet_aton("192.168.77.50")
    fmac = b"\x02\0\0\0\x77\x50"

    # A connection from the made-up host, then segments outside its window.
    c = RawConn(w, fake, fmac, 7)
    opened = c.open()
    check(opened, "raw TCP: handshake with the guest from a made-up host")
    if opened:
        check(c.echo(b"in window 1"), "raw TCP: data in the window is echoed")
        before = c.snd
        # A SYN in the synchronized state: a challenge ACK (RFC 5961 4).
        c.send(SYN, seq=c.snd + 5)
        check(c.acks_within(3), "raw TCP: a SYN on the connection gets a challenge ACK")
        c.drain()
        # Data far outside the receive window, before and after it.
        for off in (1 << 30, -(1 << 30), 70000, -70000):
            c.send(PSH | ACK, b"OUTSIDE-THE-WINDOW", seq=before + off)
        check(c.acks_within(3), "raw TCP: a segment outside the window gets an ACK")
        # An ACK for data the guest never sent, a bad checksum, a bad
        # data offset, a header cut short: all dropped.
        c.send(PSH | ACK, b"BADACK", ack=c.rcv + (1 << 20))
        c.send(PSH | ACK, b"BADSUM", good_sum=False)
        c.send(PSH | ACK, b"BADDOFF", doff=15)
        c.send(PSH | ACK, b"LOWDOFF", doff=3)
        w.eth(w.ip(fake, c.w.tcp(fake, c.sport, 7, c.snd, c.rcv, ACK)[:12]), src=fmac)
        # RSTs that must not reset it (RFC 5961): outside the window, and
        # inside it but not at the next sequence number.
        c.send(RST, seq=c.snd + (1 << 30))
        c.send(RST, seq=c.snd + 100)
        time.sleep(0.5)
        c.drain()
        check(c.echo(b"in window 2"), "raw TCP: after all that, the connection "
              "still echoes exactly what is in the window")
        c.send(RST | ACK)

    # Truncated and malformed headers at each layer.
    tcp_ok = w.tcp(host, 5555, 7, 1, 0, SYN)
    for _ in range(20):
        w.eth(b"")                                        # no IP header
        w.eth(b"\x45\0\0")                                # 3 bytes of IP
        w.eth(b"\0" * 46, typ=0x86DD)                     # IPv6: not ours
        w.eth(w.ip(host, tcp_ok, ver=0x65))               # version 6
        w.eth(w.ip(host, tcp_ok, ver=0x44))               # IHL 4 (16 bytes)
        w.eth(w.ip(host, tcp_ok, ver=0x4F))               # IHL 60: past the packet
        w.eth(w.ip(host, tcp_ok, total=1400))             # total length past the frame
        w.eth(w.ip(host, tcp_ok, total=12))               # total length below the header
        w.eth(w.ip(host, tcp_ok, good_sum=False))         # IP header checksum
        w.eth(w.ip(host, tcp_ok[:10]))                    # TCP header cut short
        w.eth(w.ip(host, w.tcp(host, 5555, 7, 1, 0, SYN, good_sum=False)))
        w.eth(w.ip(host, w.tcp(host, 5555, 7, 1, 0, SYN, doff=2)))
        w.eth(w.ip(host, w.tcp(host, 5555, 7, 1, 0, SYN, doff=15)))
        w.eth(w.ip(host, tcp_ok, ttl=0))                  # TTL 0: taken (RFC 1122 3.2.1.7)
        w.eth(w.ip(host, b"\0" * 5, proto=17))            # UDP cut short
        w.eth(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 100))))
        w.eth(w.ip(host, bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 60))),
                   proto=rnd.choice((1, 6, 17))))
    # Fragments that overlap by 8 bytes, fragments past 65535 bytes, and
    # fragments never completed.
    data = w.tcp(host, 5556, 7, 1, 0, PSH | ACK, bytes(3000))
    for i in range(20):
        w.eth(w.ip(host, data[:1480], ident=100 + i, frag=0x2000))
        w.eth(w.ip(host, data[1472:2952], ident=100 + i, frag=0x2000 | 1472 // 8))
        w.eth(w.ip(host, data[2944:], ident=100 + i, frag=2944 // 8))
        w.eth(w.ip(host, data[:1480], ident=200 + i, frag=0x2000))
        w.eth(w.ip(host, bytes(1000), ident=200 + i, frag=65000 // 8))
        w.eth(w.ip(host, data[:8], ident=300 + i, frag=0x2000 | (i * 4)))
    # A SYN flood: 2000 SYNs to the echo port from random ports of a host
    # that never answers.
    flood = socket.inet_aton("192.168.77.66")
    fmac2 = b"\x02\0\0\0\x77\x66"
    w.eth(struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + fmac2 + flood + b"\0" * 6 + w.gaddr,
          typ=0x0806, src=fmac2, dst=b"\xff" * 6)
    for i in range(2000):
        t = w.tcp(flood, rnd.randrange(1024, 65536), 7, rnd.getrandbits(32), 0, SYN,
                  opts=b"\x02\x04\x05\xb4", doff=6)
        w.eth(w.ip(flood, t, ident=i), src=fmac2)
    # An ARP storm: 5000 requests and replies from random senders, and junk.
    for i in range(5000):
        smac = bytes([0x02, 0x10]) + rnd.getrandbits(32).to_bytes(4, "big")
        sip = bytes([192, 168, 77, rnd.randrange(3, 250)]) if i % 2 else \
            rnd.getrandbits(32).to_bytes(4, "big")
        op = 1 + i % 2
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + smac + sip + \
            (w.gmac if op == 2 else b"\0" * 6) + w.gaddr
        w.eth(arp + b"\0" * 18, typ=0x0806, src=smac,
              dst=w.gmac if op == 2 else b"\xff" * 6)
        if i % 10 == 0:
            w.eth(struct.pack("!HHBBH", 1, 0x0800, 8, 4, 1) + b"\0" * 40, typ=0x0806)
    note("%d frames sent" % w.sent)
    check(True, "sent malformed frames, out-of-window segments, bad fragments, "
          "a SYN flood and an ARP storm (%d frames)" % w.sent)


# ------------------------------------------------------------ the relay

def tap_open(name):
    """A new tap device NAME (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0002 | 0x1000 | 0x4000))
    return fd


def relay(guestif, hostif, seconds):
    """The netem stand-in, when sch_netem is not there: the guest's tap
    device GUESTIF has no address; HOSTIF is a tap device this process
    opens, whose kernel side holds the host's address.  Frames from the
    host to the guest lose 5 %, wait 20 ms and 10 % of them go at once
    (reordered), like `netem loss 5% delay 20ms reorder 10%` on the host
    side; frames from the guest pass unchanged.  Runs for SECONDS, or
    until SIGTERM; then prints what it did.

    Both ends carry a virtio-net header before each frame (PACKET_VNET_HDR
    on the guest's side, IFF_VNET_HDR on the host's): the guest's TCP
    checksums may be left to the NIC, and the header tells the host's
    kernel so, as QEMU told the guest's tap device."""
    g = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    g.setsockopt(263, 15, 1)  # SOL_PACKET, PACKET_VNET_HDR
    g.bind((guestif, 0))
    g.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    h = tap_open(hostif)
    rnd = random.Random(9)
    queue = []  # (due, frame)
    stats = {"passed": 0, "lost": 0, "reordered": 0, "back": 0}
    end = time.monotonic() + seconds
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("relay up", flush=True)
    while time.monotonic() < end and not stop:
        t = time.monotonic()
        timeout = max(0, min([d for d, _ in queue] + [t + 0.1]) - t)
        try:
            r, _, _ = select.select([g, h], [], [], timeout)
        except InterruptedError:
            continue
        if h in r:
            f = os.read(h, 65536)
            if rnd.random() < 0.05:
                stats["lost"] += 1
            elif rnd.random() < 0.10:
                g.send(f)
                stats["reordered"] += 1
            else:
                queue.append((time.monotonic() + 0.020, f))
        if g in r:
            f, a = g.recvfrom(65536)
            if a[2] != socket.PACKET_OUTGOING:
                os.write(h, f)
                stats["back"] += 1
        t = time.monotonic()
        while queue and queue[0][0] <= t:
            g.send(queue.pop(0)[1])
            stats["passed"] += 1
    print("relay %s" % stats, flush=True)


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "bulk":
        bulk(a[0], int(a[1]), int(a[2]), float(a[3]))
    elif cmd == "many":
        many(a[0], int(a[1]), int(a[2]), int(a[3]), float(a[4]))
    elif cmd == "udp":
        udp(a[0], int(a[1]))
    elif cmd == "server":
        server(a[0], int(a[1]), float(a[2]))
    elif cmd == "sink":
        sink(a[0], float(a[1]))
    elif cmd == "quit":
        quit_guest(a[0], int(a[1]))
    elif cmd == "garbage":
        garbage(a[0], a[1], a[2])
    elif cmd == "relay":
        relay(a[0], a[1], float(a[2]))
    else:
        sys.exit("unknown command " + cmd)
    sys.exit(failed)


if __name__ == "__main__":
    main()
