#!/usr/bin/env python3
"""Writes differencing (child) VHD and VHDX images over a parent made by qemu-img.

No independent tool here can create differencing disks: qemu-img cannot (and reads differencing
VHDs wrongly), libvhdi only reads, Hyper-V's New-VHD -Differencing needs Windows. This script is
therefore a second, separate writer, written from the specifications ([MS-VHDX] 2.2-2.6, VHD
spec 1.0), not from gptdoctor's TypeScript. Every image it makes is checked by libvhdi
(Debian's python3-libvhdi) reading through the chain, and the intended contents come from
sgdisk run on a raw copy, so a bug here shows up as a disagreement with libvhdi.

    make-differencing.py vhd|vhdx PARENT BASE.raw MODIFIED.raw CHILD [--parent-name NAME] [--whole-bytes]

PARENT is BASE.raw converted by qemu-img (vpc with force_size=on, or vhdx). The child stores
exactly the 512-byte sectors in which MODIFIED.raw differs from BASE.raw, so reading the chain
gives MODIFIED.raw. Sectors a child block holds but does not mark present are filled with 0xEE,
so a reader that ignores the sector bitmaps returns wrong bytes.

--whole-bytes (VHD): store changed sectors in aligned groups of 8, so that every bitmap byte is
0x00 or 0xFF. libvhdi (20210425 and 20240509) misdecodes VHD bitmap bytes with only some bits
set (it marks other sectors present), so it can only be the oracle for such images.
"""
import os
import struct
import sys
import time
import uuid

SECTOR = 512
FILLER = 0xEE


def changed_sectors(base, modified):
    """Indexes of the 512-byte sectors that differ."""
    assert len(base) == len(modified), 'base and modified images differ in size'
    return [i for i in range(len(base) // SECTOR) if base[i * SECTOR:(i + 1) * SECTOR] != modified[i * SECTOR:(i + 1) * SECTOR]]


# ---------------------------------------------------------------- VHD (big-endian, MSB-first bitmaps)

def vhd_checksum(b):
    return (~sum(b)) & 0xFFFFFFFF


def vhd_child(parent_path, base, modified, child_path, parent_name, whole_bytes=False):
    with open(parent_path, 'rb') as f:
        f.seek(-512, os.SEEK_END)
        parent_footer = f.read(512)
    assert parent_footer[:8] == b'conectix'
    current_size = struct.unpack('>Q', parent_footer[48:56])[0]
    assert current_size == len(modified), 'make the parent with -o force_size=on'
    block_size = 2 * 1024 * 1024
    spb = block_size // SECTOR
    blocks = -(-current_size // block_size)
    bat_bytes = -(-blocks * 4 // 512) * 512
    changed = changed_sectors(base, modified)
    if whole_bytes:
        changed = sorted({g + i for s in changed for g in [s - s % 8] for i in range(8)})
    by_block = {}
    for s in changed:
        by_block.setdefault(s // spb, []).append(s % spb)

    relative = ('.\\' + parent_name).encode('utf-16-le')
    absolute = ('C:\\VMs\\' + parent_name).encode('utf-16-le')
    header_at, bat_at = 512, 1536
    locator_at = bat_at + bat_bytes
    data_at = locator_at + 2 * 512
    bat = [0xFFFFFFFF] * blocks
    body = bytearray()
    for block in sorted(by_block):
        bat[block] = (data_at + len(body)) // SECTOR
        bitmap = bytearray(512)
        data = bytearray([FILLER]) * block_size
        for s in by_block[block]:
            bitmap[s // 8] |= 0x80 >> (s % 8)
            at = (block * spb + s) * SECTOR
            data[s * SECTOR:(s + 1) * SECTOR] = modified[at:at + SECTOR]
        body += bitmap + data

    footer = bytearray(512)
    footer[0:8] = b'conectix'
    struct.pack_into('>IIQI', footer, 8, 2, 0x00010000, header_at, int(time.time()) - 946684800)
    footer[28:32] = b'gdfx'
    struct.pack_into('>I', footer, 32, 0x00010000)
    footer[36:40] = b'Wi2k'
    struct.pack_into('>QQ', footer, 40, current_size, current_size)
    footer[56:60] = parent_footer[56:60]  # CHS as the parent has it
    struct.pack_into('>I', footer, 60, 4)  # differencing
    footer[68:84] = uuid.uuid4().bytes
    struct.pack_into('>I', footer, 64, vhd_checksum(footer))

    header = bytearray(1024)
    header[0:8] = b'cxsparse'
    struct.pack_into('>QQII', header, 8, 0xFFFFFFFFFFFFFFFF, bat_at, 0x00010000, blocks)
    struct.pack_into('>I', header, 32, block_size)
    header[40:56] = parent_footer[68:84]  # the parent's Unique Id
    name = parent_name.encode('utf-16-be')[:512]
    header[64:64 + len(name)] = name
    for slot, (code, blob, at) in enumerate([(b'W2ru', relative, locator_at), (b'W2ku', absolute, locator_at + 512)]):
        e = 576 + slot * 24
        header[e:e + 4] = code
        struct.pack_into('>III', header, e + 4, 512, len(blob), 0)  # data space in bytes, as Hyper-V writes it
        struct.pack_into('>Q', header, e + 16, at)
    struct.pack_into('>I', header, 36, vhd_checksum(header))

    image = bytearray(data_at)
    image[0:512] = footer
    image[header_at:header_at + 1024] = header
    for i, entry in enumerate(bat):
        struct.pack_into('>I', image, bat_at + i * 4, entry)
    for i in range(blocks, bat_bytes // 4):
        struct.pack_into('>I', image, bat_at + i * 4, 0xFFFFFFFF)
    image[locator_at:locator_at + len(relative)] = relative
    image[locator_at + 512:locator_at + 512 + len(absolute)] = absolute
    with open(child_path, 'wb') as f:
        f.write(image + body + footer)
    return len(by_block), len(changed)


# ---------------------------------------------------------------- VHDX (little-endian, CRC-32C, LSB-first bitmaps)

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for byte in data:
        c = CRC32C[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def guid(text):
    return uuid.UUID(text).bytes_le


MiB = 1024 * 1024
KiB = 1024
REGION_BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08'
REGION_METADATA = '8B7CA206-4790-4B9A-B8FE-575F050F886E'
FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B'
VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8'
VIRTUAL_DISK_ID = 'BECA12AB-B2E6-4523-93EF-C309E000C746'
LOGICAL_SECTOR_SIZE = '8141BF1D-A96F-4709-BA47-F233A8FAAB5F'
PHYSICAL_SECTOR_SIZE = 'CDA348C7-445D-4471-9CC9-E9885251C556'
PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C'
VHDX_LOCATOR_TYPE = 'B04AEFB7-D19E-4A81-B789-25B8E9445913'
FULLY_PRESENT, PARTIALLY_PRESENT, SB_PRESENT = 6, 7, 6


def with_checksum(b):
    b[4:8] = b'\0\0\0\0'
    struct.pack_into('<I', b, 4, crc32c(bytes(b)))
    return b


def vhdx_parent_facts(path):
    """DataWriteGuid of the current header, and the Virtual Disk ID and sector size items."""
    with open(path, 'rb') as f:
        data = f.read(4 * MiB)
        headers = []
        for at in (64 * KiB, 128 * KiB):
            h = data[at:at + 4 * KiB]
            if h[:4] == b'head' and struct.unpack('<I', h[4:8])[0] == crc32c(h[:4] + b'\0\0\0\0' + h[8:]):
                headers.append(h)
        current = max(headers, key=lambda h: struct.unpack('<Q', h[8:16])[0])
        data_write_guid = uuid.UUID(bytes_le=current[32:48])
        regions = data[192 * KiB:256 * KiB]
        meta_at = None
        for i in range(struct.unpack('<I', regions[8:12])[0]):
            e = 16 + i * 32
            if uuid.UUID(bytes_le=regions[e:e + 16]) == uuid.UUID(REGION_METADATA):
                meta_at = struct.unpack('<Q', regions[e + 16:e + 24])[0]
        f.seek(meta_at)
        meta = f.read(MiB)
    items = {}
    for i in range(struct.unpack('<H', meta[10:12])[0]):
        e = 32 + i * 32
        off, length = struct.unpack('<II', meta[e + 16:e + 24])
        items[str(uuid.UUID(bytes_le=meta[e:e + 16])).upper()] = meta[off:off + length]
    return data_write_guid, items[VIRTUAL_DISK_ID], struct.unpack('<I', items[LOGICAL_SECTOR_SIZE])[0]


def vhdx_child(parent_path, base, modified, child_path, parent_name):
    data_write_guid, disk_id, logical = vhdx_parent_facts(parent_path)
    assert logical == SECTOR, 'this recipe writes 512-byte-sector children'
    virtual_size = len(modified)
    block_size = 2 * MiB
    spb = block_size // SECTOR
    chunk_ratio = (2 ** 23 * SECTOR) // block_size
    blocks = -(-virtual_size // block_size)
    chunks = -(-blocks // chunk_ratio)
    bat_entries = chunks * (chunk_ratio + 1)
    changed = changed_sectors(base, modified)
    by_block = {}
    for s in changed:
        by_block.setdefault(s // spb, []).append(s % spb)

    log_at, meta_at, bat_at, data_at = 1 * MiB, 2 * MiB, 3 * MiB, 4 * MiB
    assert bat_entries * 8 <= MiB
    body = bytearray()
    bat = bytearray(MiB)
    bitmaps = {}
    for block in sorted(by_block):
        sectors = by_block[block]
        data = bytearray([FILLER]) * block_size
        for s in sectors:
            at = (block * spb + s) * SECTOR
            data[s * SECTOR:(s + 1) * SECTOR] = modified[at:at + SECTOR]
        offset = data_at + len(body)
        body += data
        full = len(sectors) == spb
        struct.pack_into('<Q', bat, (block + block // chunk_ratio) * 8, (FULLY_PRESENT if full else PARTIALLY_PRESENT) | ((offset // MiB) << 20))
        if not full:
            chunk = block // chunk_ratio
            bitmap = bitmaps.setdefault(chunk, bytearray(MiB))
            for s in sectors:
                v = block * spb + s - chunk * (2 ** 23)  # sector within the chunk
                bitmap[v // 8] |= 1 << (v % 8)
    for chunk, bitmap in sorted(bitmaps.items()):
        offset = data_at + len(body)
        body += bitmap
        struct.pack_into('<Q', bat, (chunk * (chunk_ratio + 1) + chunk_ratio) * 8, SB_PRESENT | ((offset // MiB) << 20))

    # Metadata: table, then items from 64 KiB on.
    pairs = [('parent_linkage', '{%s}' % str(data_write_guid).lower()), ('relative_path', '.\\' + parent_name), ('absolute_win32_path', 'C:\\VMs\\' + parent_name)]
    locator = bytearray(guid(VHDX_LOCATOR_TYPE) + struct.pack('<HH', 0, len(pairs)))
    strings = bytearray()
    table_end = 20 + 12 * len(pairs)
    for key, value in pairs:
        k, v = key.encode('utf-16-le'), value.encode('utf-16-le')
        locator += struct.pack('<IIHH', table_end + len(strings), table_end + len(strings) + len(k), len(k), len(v))
        strings += k + v
    locator += strings
    items = [
        (FILE_PARAMETERS, struct.pack('<II', block_size, 2), 0x4),  # HasParent
        (VIRTUAL_DISK_SIZE, struct.pack('<Q', virtual_size), 0x6),
        (VIRTUAL_DISK_ID, disk_id, 0x6),  # a child copies its parent's
        (LOGICAL_SECTOR_SIZE, struct.pack('<I', SECTOR), 0x6),
        (PHYSICAL_SECTOR_SIZE, struct.pack('<I', 4096), 0x6),
        (PARENT_LOCATOR, bytes(locator), 0x4),
    ]
    meta = bytearray(MiB)
    meta[0:8] = b'metadata'
    struct.pack_into('<H', meta, 10, len(items))
    at = 64 * KiB
    for i, (item, value, flags) in enumerate(items):
        e = 32 + i * 32
        meta[e:e + 16] = guid(item)
        struct.pack_into('<III', meta, e + 16, at, len(value), flags)
        meta[at:at + len(value)] = value
        at += -(-len(value) // 4096) * 4096

    regions = bytearray(64 * KiB)
    regions[0:4] = b'regi'
    struct.pack_into('<I', regions, 8, 2)
    for i, (region, offset) in enumerate([(REGION_BAT, bat_at), (REGION_METADATA, meta_at)]):
        e = 16 + i * 32
        regions[e:e + 16] = guid(region)
        struct.pack_into('<QII', regions, e + 16, offset, MiB, 1)
    with_checksum(regions)

    image = bytearray(data_at)
    image[0:8] = b'vhdxfile'
    creator = 'gptdoctor make-differencing.py'.encode('utf-16-le')
    image[8:8 + len(creator)] = creator
    for slot, sequence in ((1, 1), (2, 2)):
        h = bytearray(4 * KiB)
        h[0:4] = b'head'
        struct.pack_into('<Q', h, 8, sequence)
        h[16:32] = uuid.uuid4().bytes_le  # FileWriteGuid
        h[32:48] = uuid.uuid4().bytes_le  # DataWriteGuid
        struct.pack_into('<HHIQ', h, 64, 0, 1, MiB, log_at)  # LogVersion, Version, LogLength, LogOffset
        image[slot * 64 * KiB:slot * 64 * KiB + 4 * KiB] = with_checksum(h)
    image[192 * KiB:256 * KiB] = regions
    image[256 * KiB:320 * KiB] = regions
    image[meta_at:meta_at + MiB] = meta
    image[bat_at:bat_at + MiB] = bat
    with open(child_path, 'wb') as f:
        f.write(image + body)
    return len(by_block), len(changed)


def main():
    args = sys.argv[1:]
    name = None
    whole_bytes = '--whole-bytes' in args
    if whole_bytes:
        args.remove('--whole-bytes')
    if '--parent-name' in args:
        i = args.index('--parent-name')
        name = args[i + 1]
        del args[i:i + 2]
    kind, parent, base_path, modified_path, child = args
    with open(base_path, 'rb') as f:
        base = f.read()
    with open(modified_path, 'rb') as f:
        modified = f.read()
    name = name or os.path.basename(parent)
    if kind == 'vhd':
        blocks, sectors = vhd_child(parent, base, modified, child, name, whole_bytes)
    else:
        blocks, sectors = vhdx_child(parent, base, modified, child, name)
    print(f'{child}: {sectors} changed sectors in {blocks} child blocks over {parent}')


if __name__ == '__main__':
    main()
