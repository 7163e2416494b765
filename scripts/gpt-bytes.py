#!/usr/bin/env python3
"""Byte-level GPT damage for test fixtures (used by make-test-images.sh).

Healthy layouts always come from sgdisk/sfdisk/parted; this tool only breaks them on purpose.
Commands that must leave a *valid but wrong* table recompute the CRCs (zlib.crc32 is the
same CRC-32 the UEFI spec uses), so the checker has to find the problem in the fields.

  gpt-bytes.py flip FILE OFFSET                 xor one byte with 0xFF
  gpt-bytes.py zero FILE OFFSET LENGTH          zero a byte range
  gpt-bytes.py header FILE primary|backup|both FIELD VALUE    set a header field, fix that header's CRC
  gpt-bytes.py entry FILE INDEX FIELD VALUE     set an entry field in both arrays, fix all CRCs
  gpt-bytes.py entry-primary FILE INDEX FIELD VALUE   the same in the primary array alone (a CRC-valid but wrong primary)
  gpt-bytes.py entry-size-256 FILE              rewrite both arrays with 256-byte entries
  gpt-bytes.py fill FILE COUNT                  a fresh GPT of COUNT 1 MiB partitions (benchmarks; the file must be big enough)
Options: --sector-size N (default 512)
"""
import argparse
import struct
import uuid
import zlib

HEADER_FIELDS = {  # name: (offset, struct format)
    'revision': (8, '<I'), 'header_size': (12, '<I'), 'reserved': (20, '<I'), 'my_lba': (24, '<Q'), 'alternate_lba': (32, '<Q'),
    'first_usable': (40, '<Q'), 'last_usable': (48, '<Q'), 'disk_guid': (56, 'guid'), 'entries_lba': (72, '<Q'),
    'entry_count': (80, '<I'), 'entry_size': (84, '<I'),
}
ENTRY_FIELDS = {'type': (0, 'guid'), 'guid': (16, 'guid'), 'first_lba': (32, '<Q'), 'last_lba': (40, '<Q'), 'attributes': (48, '<Q')}


def pack(fmt, value):
    if fmt == 'guid':
        return uuid.UUID(value).bytes_le
    return struct.pack(fmt, int(value, 0))


class Disk:
    def __init__(self, path, ss):
        self.path, self.ss = path, ss
        with open(path, 'rb') as f:
            self.data = bytearray(f.read())
        self.last = len(self.data) // ss - 1

    def save(self):
        with open(self.path, 'r+b') as f:
            f.write(self.data)

    def header_lba(self, which):
        return 1 if which == 'primary' else self.last

    def hdr(self, lba):
        return self.data[lba * self.ss:(lba + 1) * self.ss]

    def field(self, lba, off, fmt):
        return struct.unpack_from(fmt, self.data, lba * self.ss + off)[0]

    def fix_header_crc(self, lba):
        base = lba * self.ss
        size = self.field(lba, 12, '<I')
        struct.pack_into('<I', self.data, base + 16, 0)
        struct.pack_into('<I', self.data, base + 16, zlib.crc32(bytes(self.data[base:base + size])) & 0xffffffff)

    def fix_array_crc(self, lba):
        entries, count, size = self.field(lba, 72, '<Q'), self.field(lba, 80, '<I'), self.field(lba, 84, '<I')
        start = entries * self.ss
        struct.pack_into('<I', self.data, lba * self.ss + 88, zlib.crc32(bytes(self.data[start:start + count * size])) & 0xffffffff)
        self.fix_header_crc(lba)

    def set_entry(self, index, off, raw, lbas=None):
        for lba in lbas or (1, self.last):
            entries, size = self.field(lba, 72, '<Q'), self.field(lba, 84, '<I')
            at = entries * self.ss + (index - 1) * size + off
            self.data[at:at + len(raw)] = raw
            self.fix_array_crc(lba)


def entry_size_256(disk):
    """Both arrays become 128 entries of 256 bytes (64 sectors at 512): entry bytes copied, the rest zero."""
    old = disk.hdr(1)
    count, size = struct.unpack_from('<I', old, 80)[0], struct.unpack_from('<I', old, 84)[0]
    src = disk.field(1, 72, '<Q') * disk.ss
    entries = [bytes(disk.data[src + i * size:src + (i + 1) * size]) for i in range(count)]
    array = b''.join(e + bytes(256 - size) for e in entries)
    sectors = len(array) // disk.ss
    layout = {1: (2, disk.last), disk.last: (disk.last - sectors, 1)}
    for lba, (entries_lba, alternate) in layout.items():
        disk.data[entries_lba * disk.ss:entries_lba * disk.ss + len(array)] = array
        base = lba * disk.ss
        struct.pack_into('<Q', disk.data, base + 40, max(disk.field(lba, 40, '<Q'), 2 + sectors))
        struct.pack_into('<Q', disk.data, base + 48, disk.last - sectors - 1)
        struct.pack_into('<Q', disk.data, base + 72, entries_lba)
        struct.pack_into('<I', disk.data, base + 84, 256)
        disk.fix_array_crc(lba)


def fill(path, count, ss=512, size=2048):
    """A GPT with `count` used entries of `size` sectors each, 1 MiB aligned, both copies, CRCs right, protective MBR."""
    import os
    array_sectors = (count * 128 + ss - 1) // ss
    first = 2 + array_sectors
    total = os.path.getsize(path) // ss
    last = total - 2 - array_sectors
    start = (first + size - 1) // size * size
    if start + count * size > last:
        raise SystemExit('image too small for that many partitions')
    linux = uuid.UUID('0FC63DAF-8483-4772-8E79-3D69D8477DE4').bytes_le
    array = bytearray(array_sectors * ss)
    for i in range(count):
        e = 128 * i
        array[e:e + 16] = linux
        array[e + 16:e + 32] = uuid.UUID(int=(i + 1) | (4 << 76) | (2 << 62)).bytes_le
        struct.pack_into('<QQ', array, e + 32, start + i * size, start + (i + 1) * size - 1)
    crc = zlib.crc32(bytes(array[:count * 128])) & 0xffffffff
    disk_guid = uuid.UUID('12345678-1234-4234-8234-123456789abc').bytes_le
    with open(path, 'r+b') as f:
        mbr = bytearray(ss)
        mbr[446:462] = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF]) + struct.pack('<II', 1, min(total - 1, 0xFFFFFFFF))
        mbr[510:512] = b'\x55\xaa'
        f.seek(0); f.write(mbr)
        for lba, alt, entries in ((1, total - 1, 2), (total - 1, 1, total - 1 - array_sectors)):
            h = bytearray(ss)
            struct.pack_into('<8sIIIIQQQQ16sQIII', h, 0, b'EFI PART', 0x10000, 92, 0, 0, lba, alt, first, last, disk_guid, entries, count, 128, crc)
            struct.pack_into('<I', h, 16, zlib.crc32(bytes(h[:92])) & 0xffffffff)
            f.seek(entries * ss); f.write(array)
            f.seek(lba * ss); f.write(h)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sector-size', type=int, default=512)
    p.add_argument('command')
    p.add_argument('file')
    p.add_argument('args', nargs='*')
    a = p.parse_args()
    if a.command == 'fill':
        fill(a.file, int(a.args[0]), a.sector_size)
        return
    disk = Disk(a.file, a.sector_size)
    if a.command == 'flip':
        disk.data[int(a.args[0], 0)] ^= 0xff
    elif a.command == 'zero':
        off, length = int(a.args[0], 0), int(a.args[1], 0)
        disk.data[off:off + length] = bytes(length)
    elif a.command == 'header':
        which, name, value = a.args
        off, fmt = HEADER_FIELDS[name]
        for w in (['primary', 'backup'] if which == 'both' else [which]):
            lba = disk.header_lba(w)
            raw = pack(fmt, value)
            disk.data[lba * disk.ss + off:lba * disk.ss + off + len(raw)] = raw
            disk.fix_header_crc(lba)
    elif a.command in ('entry', 'entry-primary'):
        index, name, value = int(a.args[0]), a.args[1], a.args[2]
        off, fmt = ENTRY_FIELDS[name]
        disk.set_entry(index, off, pack(fmt, value), (1,) if a.command == 'entry-primary' else None)
    elif a.command == 'entry-size-256':
        entry_size_256(disk)

    else:
        raise SystemExit(f'unknown command {a.command}')
    disk.save()


if __name__ == '__main__':
    main()
