#!/usr/bin/env python3
"""Writes a VMDK seSparse extent (ESXi 6.5+ "space-efficient sparse") holding a raw disk image,
and the text descriptor that names it. Test fixture recipe: stdlib only.

    make-sesparse.py RAW OUT.vmdk [--reverse]
    make-sesparse.py RAW OUT.vmdk --parent PARENT.vmdk --parent-raw PARENT.raw

OUT.vmdk is the descriptor; the extent is OUT-sesparse.vmdk beside it. The oracle is qemu, which
reads seSparse read-only: `qemu-img convert -f vmdk -O raw OUT.vmdk x.raw` must give RAW back.

Layout (all offsets and sizes in 512-byte sectors, every field little-endian uint64):
  0      const header: magic 0xcafebabe, version 0x200000001, capacity, grain size 8, grain
         table size 64, flags 0, 4 reserved, then (offset, size) pairs: volatile header, journal
         header, journal, grain directory, grain tables, free bitmap, backmap, grains; 304 zero
         bytes of padding
  1      volatile header: magic 0xcafecafe, free GT number, next txn number, replay journal 0
  ...    grain directory: 0 (no table) or 0x10000000_00000000 | table number
  ...    grain tables of 4096 entries (64 sectors), each covering 16 MiB of the disk; an entry's
         top nibble is its type: 0 unallocated (whole entry 0), 1 unmapped, 2 zeroed (both read
         as zeros, even over a parent), 3 allocated, with the grain number g stored as
         ((g & 0xfff) << 48) | (g >> 12)
  ...    grains of 4 KiB, numbered from the start of the grains area

Without a parent, all-zero grains are left unallocated, except that the first two all-zero grains
under an allocated grain table are marked zeroed (type 2) and unmapped (type 1). With --parent
(a monolithicSparse VMDK made by `qemu-img convert -O vmdk PARENT.raw PARENT.vmdk`), the result
is a snapshot: grains equal to the parent's are unallocated, grains that became all zeros are
marked zeroed or unmapped, the rest are allocated; the descriptor records the parent's CID.
--reverse stores the grains in the reverse of disk order (grain numbers then run backwards).
"""

import argparse
import os
import re
import struct
import zlib

SECTOR = 512
GRAIN_SECTORS = 8
GRAIN = GRAIN_SECTORS * SECTOR
GT_SECTORS = 64
GT_ENTRIES = GT_SECTORS * SECTOR // 8
CONST_MAGIC = 0xCAFEBABE
VOLATILE_MAGIC = 0xCAFECAFE
VERSION = 0x0000000200000001
TYPE_UNMAPPED = 0x1 << 60
TYPE_ZEROED = 0x2 << 60
TYPE_ALLOCATED = 0x3 << 60
GD_ALLOCATED = 0x1 << 60


def grain_entry(number):
    assert number < 1 << 60
    return TYPE_ALLOCATED | ((number & 0xFFF) << 48) | (number >> 12)


def parent_cid(path):
    """The CID in a monolithicSparse VMDK's embedded descriptor."""
    with open(path, 'rb') as f:
        head = f.read(512)
        if head[:4] != b'KDMV':
            raise SystemExit(f'{path}: not a hosted sparse VMDK (KDMV)')
        desc_offset, desc_size = struct.unpack_from('<QQ', head, 28)
        f.seek(desc_offset * SECTOR)
        text = f.read(desc_size * SECTOR).split(b'\0')[0].decode('latin1')
    m = re.search(r'^CID=([0-9a-fA-F]+)', text, re.M)
    if not m:
        raise SystemExit(f'{path}: its descriptor has no CID')
    return m.group(1).lower()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('raw')
    ap.add_argument('out', help='the descriptor to write (NAME.vmdk); the extent is NAME-sesparse.vmdk')
    ap.add_argument('--parent', help='parent monolithicSparse VMDK: make a snapshot over it')
    ap.add_argument('--parent-raw', help='the raw image the parent holds')
    ap.add_argument('--reverse', action='store_true', help='store grains in reverse disk order')
    args = ap.parse_args()
    if bool(args.parent) != bool(args.parent_raw):
        ap.error('--parent and --parent-raw go together')

    data = open(args.raw, 'rb').read()
    if not data or len(data) % SECTOR:
        raise SystemExit(f'{args.raw}: size must be a non-zero multiple of 512')
    capacity = len(data) // SECTOR
    grains = -(-len(data) // GRAIN)
    parent = None
    if args.parent:
        parent = open(args.parent_raw, 'rb').read()
        if len(parent) != len(data):
            raise SystemExit('the parent raw image must be as large as the snapshot')

    zero = bytes(GRAIN)
    def grain_bytes(buf, i):
        return buf[i * GRAIN:(i + 1) * GRAIN].ljust(GRAIN, b'\0')

    # Decide each grain's entry type: 'data', 'zero' (zeroed/unmapped) or None (unallocated).
    kinds = [None] * grains
    for i in range(grains):
        g = grain_bytes(data, i)
        if parent is None:
            kinds[i] = None if g == zero else 'data'
        else:
            p = grain_bytes(parent, i)
            kinds[i] = None if g == p else ('zero' if g == zero else 'data')
    gt_count = -(-grains // GT_ENTRIES)
    used_gts = [t for t in range(gt_count) if any(kinds[t * GT_ENTRIES:(t + 1) * GT_ENTRIES])]
    if parent is None:
        # Mark the first two all-zero grains under allocated tables explicitly (zeroed, unmapped).
        marked = 0
        for t in used_gts or [0]:
            for i in range(t * GT_ENTRIES, min((t + 1) * GT_ENTRIES, grains)):
                if kinds[i] is None and marked < 2:
                    kinds[i] = 'zero'
                    marked += 1
        used_gts = [t for t in range(gt_count) if any(kinds[t * GT_ENTRIES:(t + 1) * GT_ENTRIES])]

    data_grains = [i for i in range(grains) if kinds[i] == 'data']
    if args.reverse:
        data_grains.reverse()
    number_of = {g: n for n, g in enumerate(data_grains)}

    def align(sector, to=8):
        return -(-sector // to) * to

    volatile_off, volatile_size = 1, 1
    journal_header_off, journal_header_size = 2, 2
    journal_off, journal_size = 4, 4
    gd_off = 8
    gd_size = max(1, -(-gt_count * 8 // SECTOR))
    gts_off = align(gd_off + gd_size)
    gts_size = max(1, len(used_gts)) * GT_SECTORS
    bitmap_off, bitmap_size = gts_off + gts_size, 8
    backmap_off, backmap_size = bitmap_off + bitmap_size, 8
    grains_off = align(backmap_off + backmap_size)
    grains_size = len(data_grains) * GRAIN_SECTORS

    const = struct.pack(
        '<26Q', CONST_MAGIC, VERSION, capacity, GRAIN_SECTORS, GT_SECTORS, 0, 0, 0, 0, 0,
        volatile_off, volatile_size, journal_header_off, journal_header_size, journal_off, journal_size,
        gd_off, gd_size, gts_off, gts_size, bitmap_off, bitmap_size, backmap_off, backmap_size,
        grains_off, grains_size).ljust(SECTOR, b'\0')
    volatile = struct.pack('<4Q', VOLATILE_MAGIC, len(used_gts), 1, 0).ljust(SECTOR, b'\0')

    gd = [0] * (gd_size * SECTOR // 8)
    tables = bytearray(gts_size * SECTOR)
    alternate = 0
    for n, t in enumerate(used_gts):
        gd[t] = GD_ALLOCATED | n
        for i in range(t * GT_ENTRIES, min((t + 1) * GT_ENTRIES, grains)):
            if kinds[i] == 'data':
                entry = grain_entry(number_of[i])
            elif kinds[i] == 'zero':
                entry = TYPE_ZEROED if alternate % 2 == 0 else TYPE_UNMAPPED
                alternate += 1
            else:
                entry = 0
            struct.pack_into('<Q', tables, n * GT_SECTORS * SECTOR + (i % GT_ENTRIES) * 8, entry)

    base = os.path.splitext(os.path.basename(args.out))[0]
    extent_name = f'{base}-sesparse.vmdk'
    extent_path = os.path.join(os.path.dirname(os.path.abspath(args.out)), extent_name)
    with open(extent_path, 'wb') as f:
        f.write(const)
        f.seek(volatile_off * SECTOR)
        f.write(volatile)
        f.seek(gd_off * SECTOR)
        f.write(struct.pack(f'<{len(gd)}Q', *gd))
        f.seek(gts_off * SECTOR)
        f.write(tables)
        f.seek(grains_off * SECTOR)
        for g in data_grains:
            f.write(grain_bytes(data, g))
        f.truncate(grains_off * SECTOR + grains_size * SECTOR)

    cid = f'{zlib.crc32(data) or 1:08x}'
    lines = ['# Disk DescriptorFile', 'version=1', 'encoding="UTF-8"', f'CID={cid}',
             f'parentCID={parent_cid(args.parent) if args.parent else "ffffffff"}', 'createType="seSparse"']
    if args.parent:
        lines.append(f'parentFileNameHint="{os.path.basename(args.parent)}"')
    lines += ['', '# Extent description', f'RW {capacity} SESPARSE "{extent_name}"', '',
              '# The Disk Data Base', '#DDB', '', 'ddb.virtualHWVersion = "14"', 'ddb.adapterType = "lsilogic"', '']
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))


if __name__ == '__main__':
    main()
