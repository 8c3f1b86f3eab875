#!/usr/bin/env python3
"""Writes site/pattern.png, the demo site's raster image: a 128x128
palette PNG of concentric tiles, made with the standard library only so
the picture can be regenerated anywhere (python3 make-pattern.py)."""
import os
import struct
import sys
import zlib

W = H = 128
PALETTE = [(0xfb, 0xf8, 0xf3), (0xb3, 0x26, 0x1e), (0x1d, 0x23, 0x2a), (0x5f, 0x6b, 0x76)]


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def pixel(x, y):
    tx, ty = x // 16, y // 16
    dx, dy = x % 16 - 7.5, y % 16 - 7.5
    ring = int((dx * dx + dy * dy) ** 0.5) // 3
    return (ring + tx + ty) % len(PALETTE)


rows = b"".join(b"\0" + bytes(pixel(x, y) for x in range(W)) for y in range(H))
png = (b"\x89PNG\r\n\x1a\n" +
       chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 3, 0, 0, 0)) +
       chunk(b"PLTE", b"".join(bytes(c) for c in PALETTE)) +
       chunk(b"IDAT", zlib.compress(rows, 9)) +
       chunk(b"IEND", b""))
out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "site", "pattern.png")
with open(out, "wb") as f:
    f.write(png)
print(out, len(png), "bytes")
