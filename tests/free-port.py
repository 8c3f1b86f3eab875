#!/usr/bin/env python3
"""Prints a TCP port on 127.0.0.1 that nothing holds now, for a test or a
benchmark to give QEMU (-gdb, hostfwd).  It is chosen at random below the
kernel's ephemeral range, so that the client sockets of tests running
alongside (which the kernel numbers from that range) do not take it
before QEMU binds it.  Another process may still bind it first: callers
retry when QEMU says "Address already in use"."""
import random
import socket
import sys


def main():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    top = low if low > 12000 else 65536
    for _ in range(500):
        port = random.randrange(10000, top)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        print(port)
        return 0
    print("free-port.py: no free TCP port in 10000-%d" % (top - 1), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
