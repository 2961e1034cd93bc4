"""Just enough PNG decoding to hand a browser screenshot to a barcode reader: 8-bit RGB or RGBA, not
interlaced (what Chromium writes), turned into grayscale rows. Standard library only (zlib)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at 8 bits (RGB, RGBA)


@dataclass(frozen=True, kw_only=True)
class GrayImage:
    width: int
    height: int
    pixels: bytes  # one byte per pixel, row after row

    def view(self) -> memoryview:
        """A 2-D buffer (height x width), the shape zxingcpp.read_barcodes accepts."""
        return memoryview(self.pixels).cast("B", (self.height, self.width))


def read_png(data: bytes) -> GrayImage:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    position, idat = len(SIGNATURE), bytearray()
    width = height = bpp = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in CHANNELS or interlace:
                raise ValueError(
                    f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
                )
            bpp = CHANNELS[colour]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    previous = bytearray(stride)
    gray = bytearray()
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, bpp)
        for x in range(0, stride, bpp):
            red, green, blue = line[x], line[x + 1], line[x + 2]
            gray.append((299 * red + 587 * green + 114 * blue) // 1000)
        previous = line
    return GrayImage(width=width, height=height, pixels=bytes(gray))


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        up_left = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, up_left)) & 0xFF
        elif kind != 0:
            raise ValueError(f"unknown PNG filter {kind}")
    return line


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c
