#!/usr/bin/env python3
"""Reads a TensorBoard event file with no TensorFlow: TFRecord framing, CRC-32C, protobuf by hand.

usage: read_tfevents.py FILE   -> prints one JSON object:
  {"file_version": str, "starts": [step, ...], "scalars": [[step, tag, value, wall_time], ...]}
Exits 1 with a message on any framing, checksum or encoding error.

Written independently of muon4j's writer, from the formats' specifications:
  TFRecord: uint64 len, uint32 masked_crc32c(len), data, uint32 masked_crc32c(data) (little-endian);
  masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32); CRC-32C: reflected polynomial 0x82F63B78.
  tensorflow.Event: 1 wall_time double, 2 step int64, 3 file_version string, 5 summary, 7 session_log (6 is the deprecated log_message).
  Summary: 1 repeated Value{1 tag string, 2 simple_value float}. SessionLog: 1 status enum (1 = START).
"""
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        if i > len(buf):
            raise ValueError("field %d runs past the end of its message" % num)
        yield num, wt, v


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def main(path):
    data = open(path, "rb").read()
    out = {"file_version": None, "starts": [], "scalars": []}
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("truncated record header at byte %d" % pos)
        header = data[pos:pos + 8]
        (n,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if hcrc != masked(header):
            raise ValueError("bad length checksum at byte %d" % pos)
        body = data[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack("<I", data[pos + 12 + n:pos + 16 + n])
        if len(body) != n or dcrc != masked(body):
            raise ValueError("bad data checksum at byte %d" % pos)
        pos += 16 + n
        wall, step = 0.0, 0
        summary = session = None
        for num, wt, v in fields(body):
            if num == 1 and wt == 1:
                (wall,) = struct.unpack("<d", v)
            elif num == 2 and wt == 0:
                step = v
            elif num == 3 and wt == 2:
                out["file_version"] = v.decode("utf-8")
            elif num == 5 and wt == 2:
                summary = v
            elif num == 7 and wt == 2:
                session = v
        if session is not None:
            for num, wt, v in fields(session):
                if num == 1 and v == 1:
                    out["starts"].append(step)
        if summary is not None:
            for num, wt, value in fields(summary):
                if num != 1:
                    continue
                tag, simple = None, None
                for f, w, x in fields(value):
                    if f == 1:
                        tag = x.decode("utf-8")
                    elif f == 2 and w == 5:
                        (simple,) = struct.unpack("<f", x)
                out["scalars"].append([step, tag, simple, wall])
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except (ValueError, IndexError, struct.error) as e:
        print("read_tfevents: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        sys.exit(1)
