#!/usr/bin/env python3
"""The host half of tests/guest/sendfile.test: fetches the file that
tests/guest/sendfile.c serves ("serve PORT FILE_MIB COUNT") COUNT times,
one connection after the other, and compares each with the pattern made
here the same way: xorshift64 (shifts 13, 7, 17) from the seed
0x0123456789abcdef, each step's 64-bit state as 8 bytes little-endian.
Prints "ok - ..." or "not ok - ..." a fetch, for the shell test to count.

usage: sendfile-host.py HOST PORT FILE_MIB COUNT [SECONDS]
SECONDS (120) bounds each fetch, from connecting to the guest's close.
"""
import hashlib
import socket
import sys
import time

SEED = 0x0123456789ABCDEF
MASK = (1 << 64) - 1


def pattern(size):
    s = SEED
    words = []
    for _ in range((size + 7) // 8):
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        words.append(s)
    return b"".join(w.to_bytes(8, "little") for w in words)[:size]


def fetch(host, port, seconds):
    """The bytes until the guest closes, and what went wrong, if anything."""
    deadline = time.monotonic() + seconds
    data = bytearray()
    # Only connecting is tried again (the forward may not be up yet): once
    # connected, the guest has taken this connection and counts it.
    while True:
        try:
            s = socket.create_connection((host, port), timeout=10)
            break
        except OSError as e:
            if time.monotonic() + 1 >= deadline:
                return b"", "cannot connect: %s" % e
            time.sleep(0.5)
    try:
        with s:
            while time.monotonic() < deadline:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = s.recv(1 << 16)
                if not chunk:
                    return bytes(data), None
                data += chunk
            return bytes(data), "timed out after %d s" % seconds
    except OSError as e:
        return bytes(data), str(e)


def main():
    host, port, mib, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    want = pattern(mib << 20)
    want_sha = hashlib.sha256(want).hexdigest()
    print("sha256 %s" % want_sha, flush=True)
    for i in range(1, count + 1):
        start = time.monotonic()
        got, err = fetch(host, port, seconds)
        took = time.monotonic() - start
        sha = hashlib.sha256(got).hexdigest()
        if not err and got == want:
            print("ok - fetch %d: %d bytes in %.1f s, sha256 %s as made here"
                  % (i, len(got), took, sha[:16]), flush=True)
            continue
        at = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                  min(len(got), len(want)))
        print("not ok - fetch %d: %d bytes (want %d), first difference at byte %d, "
              "sha256 %s (want %s)%s"
              % (i, len(got), len(want), at, sha[:16], want_sha[:16],
                 ", " + err if err else ""), flush=True)


if __name__ == "__main__":
    main()
