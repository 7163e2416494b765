#!/usr/bin/env python3
"""Rewrites cells of a regf hive into the forms hivex never writes, so that a reader's ri, li
and lf subkey lists and its big-data (db) values are tested on files the oracles also read.
Test fixture recipe: stdlib only.

    regf-relist.py IN OUT [--ri KEY]... [--li KEY]... [--lf KEY]... [--db]

KEY is a path below the root such as 'Many' or 'Lists\\AsLi' (matched case-insensitively).
  --ri  the key's subkeys go into an ri list of three lists: an li, an lf and an lh (in order)
  --li  the key's subkeys go into one li list (offsets only)
  --lf  ... into one lf list (offset and the first four name characters)
  --db  every value whose data (over 16,344 bytes) sits in one cell, as hivex writes it, is
        stored as Windows does from hive version 1.4 on: a db cell naming a list of segment
        cells of 16,344 bytes each (the last one shorter)

hivex writes only lh lists and big values in a single cell. The new cells go into one hbin
appended to the hive; the cells they replace are marked free; the base block's hive bins data
size and checksum are updated. The hive's content does not change: every tool must list the
same keys and values in IN and OUT.
"""
import struct
import sys

SEGMENT = 16344


def le32(b, at):
    return struct.unpack_from('<I', b, at)[0]


class Hive:
    def __init__(self, data: bytes):
        self.head = bytearray(data[:4096])
        size = le32(self.head, 40)
        self.bins = bytearray(data[4096:4096 + size])
        self.extra = bytearray(struct.pack('<4sIIQQI', b'hbin', len(self.bins), 0, 0, 0, 0))

    # cell offsets count from the first hbin
    def cell(self, off: int) -> bytes:
        size = -struct.unpack_from('<i', self.bins, off)[0]
        assert size > 0, f'cell 0x{off:x} is not allocated'
        return bytes(self.bins[off + 4:off + size])

    def free(self, off: int) -> None:
        size = struct.unpack_from('<i', self.bins, off)[0]
        struct.pack_into('<i', self.bins, off, -size)

    def allocate(self, data: bytes) -> int:
        off = len(self.bins) + len(self.extra)
        size = (4 + len(data) + 7) // 8 * 8
        self.extra += struct.pack('<i', -size) + data + b'\0' * (size - 4 - len(data))
        return off

    def name(self, nk: bytes) -> str:
        length = struct.unpack_from('<H', nk, 72)[0]
        raw = nk[76:76 + length]
        return raw.decode('latin-1') if struct.unpack_from('<H', nk, 2)[0] & 0x20 else raw.decode('utf-16-le')

    def subkeys(self, nk: bytes) -> list:
        if le32(nk, 20) == 0:
            return []
        return self.list_offsets(le32(nk, 28))

    def list_offsets(self, off: int) -> list:
        c = self.cell(off)
        sig, count = c[:2], struct.unpack_from('<H', c, 2)[0]
        if sig in (b'lf', b'lh'):
            return [le32(c, 4 + i * 8) for i in range(count)]
        if sig == b'li':
            return [le32(c, 4 + i * 4) for i in range(count)]
        assert sig == b'ri', sig
        return [o for i in range(count) for o in self.list_offsets(le32(c, 4 + i * 4))]

    def find(self, path: str) -> int:
        off = le32(self.head, 36)
        for part in filter(None, path.split('\\')):
            matches = [o for o in self.subkeys(self.cell(off)) if self.name(self.cell(o)).upper() == part.upper()]
            assert matches, f'no key {part!r} in {path!r}'
            off = matches[0]
        return off

    def entries(self, kind: bytes, offsets: list) -> bytes:
        out = struct.pack('<2sH', kind, len(offsets))
        for o in offsets:
            out += struct.pack('<I', o)
            if kind == b'lf':
                out += bytes(ord(ch) if ord(ch) < 256 else 0 for ch in self.name(self.cell(o))[:4]).ljust(4, b'\0')
            elif kind == b'lh':
                h = 0
                for ch in self.name(self.cell(o)):
                    up = ch.upper()
                    h = (h * 37 + ord(up if len(up) == 1 else ch)) & 0xFFFFFFFF
                out += struct.pack('<I', h)
        return out

    def relist(self, path: str, kind: str) -> None:
        key = self.find(path)
        nk = self.cell(key)
        children = self.subkeys(nk)
        assert children, f'{path!r} has no subkeys'
        old = le32(nk, 28)
        if kind == 'ri':
            third = max(1, len(children) // 3)
            parts = [(b'li', children[:third]), (b'lf', children[third:2 * third]), (b'lh', children[2 * third:])]
            lists = [self.allocate(self.entries(k, part)) for k, part in parts if part]
            new = self.allocate(struct.pack('<2sH', b'ri', len(lists)) + b''.join(struct.pack('<I', o) for o in lists))
        else:
            new = self.allocate(self.entries(kind.encode(), children))
        struct.pack_into('<I', self.bins, key + 4 + 28, new)
        for o in self.free_list_cells(old):
            self.free(o)

    def free_list_cells(self, off: int) -> list:
        c = self.cell(off)
        if c[:2] == b'ri':
            return [off] + [le32(c, 4 + i * 4) for i in range(struct.unpack_from('<H', c, 2)[0])]
        return [off]

    def big_data(self) -> int:
        converted = 0
        at = 0
        while at < len(self.bins):
            size = le32(self.bins, at + 8)
            p = at + 32
            while p < at + size:
                s = struct.unpack_from('<i', self.bins, p)[0]
                if s < 0 and self.bins[p + 4:p + 6] == b'vk':
                    length, data_off = le32(self.bins, p + 8), le32(self.bins, p + 12)
                    if not length & 0x80000000 and length > SEGMENT:
                        data = self.cell(data_off)[:length]
                        segments = [self.allocate(data[i:i + SEGMENT]) for i in range(0, length, SEGMENT)]
                        seg_list = self.allocate(b''.join(struct.pack('<I', o) for o in segments))
                        db = self.allocate(struct.pack('<2sHII', b'db', len(segments), seg_list, 0))
                        struct.pack_into('<I', self.bins, p + 12, db)
                        self.free(data_off)
                        converted += 1
                p += abs(s)
            at += size
        return converted

    def bytes(self) -> bytes:
        used = len(self.extra)
        total = (used + 4095) // 4096 * 4096
        if total > used:  # cells are 8-byte multiples, so the rest holds a free cell
            self.extra += struct.pack('<i', total - used) + b'\0' * (total - used - 4)
        struct.pack_into('<I', self.extra, 8, total)
        struct.pack_into('<I', self.head, 40, len(self.bins) + total)
        x = 0
        for (word,) in struct.iter_unpack('<I', bytes(self.head[:508])):
            x ^= word
        struct.pack_into('<I', self.head, 508, 1 if x == 0 else 0xFFFFFFFE if x == 0xFFFFFFFF else x)
        return bytes(self.head) + bytes(self.bins) + bytes(self.extra)


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    src, dst, rest = args[0], args[1], args[2:]
    with open(src, 'rb') as f:
        hive = Hive(f.read())
    big = False
    while rest:
        flag = rest.pop(0)
        if flag == '--db':
            big = True
        elif flag in ('--ri', '--li', '--lf') and rest:
            hive.relist(rest.pop(0), flag[2:])
        else:
            sys.exit(f'unknown argument {flag!r}\n{__doc__}')
    if big and hive.big_data() == 0:
        sys.exit('--db: no value over 16,344 bytes in one cell')
    with open(dst, 'wb') as f:
        f.write(hive.bytes())


if __name__ == '__main__':
    main()
