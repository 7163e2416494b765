#!/usr/bin/env python3
"""Writes an empty Windows registry hive (regf 1.5): a base block and one hive bin holding the
root key, its security cell and a free cell. Test fixture recipe: stdlib only.

    make-empty-hive.py OUT [ROOT_NAME]

hivex cannot create a hive from nothing, so the test hives start here and are filled by
`hivexregedit --merge`; hivexsh and regfinfo must accept the result (test/fs-regf.test.ts).

Layout (every field little-endian; cell offsets count from the first hive bin, file offset 4096):
  0       base block, 4096 bytes: "regf", primary and secondary sequence numbers (equal: a
          clean hive), timestamp, version 1.5, type 0 (primary), format 1, root cell offset,
          hive bins data size, clustering factor 1, file name (UTF-16LE, 64 bytes), and at
          508 the XOR of the 127 dwords before it (0 is written as 1, 0xFFFFFFFF as 0xFFFFFFFE)
  4096    hbin of 4096 bytes: "hbin", its offset (0), its size, a timestamp; then cells:
          the root nk (flags KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME, ASCII name),
          an sk cell (a self-relative security descriptor with no owner, group or DACL) that
          links to itself, and one free cell to the end of the bin
A cell is a signed 32-bit size (negative: allocated) and its data, 8-byte aligned.
"""
import struct
import sys

BASE = 4096
HBIN = 4096
FILETIME = 132000000000000000  # 2019-04-14, fixed so the file is reproducible


def cell(data: bytes) -> bytes:
    size = (4 + len(data) + 7) // 8 * 8
    return struct.pack('<i', -size) + data + b'\0' * (size - 4 - len(data))


def nk(name: bytes, sk_offset: int) -> bytes:
    head = struct.pack(
        '<2sHQIIIIIIIIIIIIIIIHH',
        b'nk', 0x2C, FILETIME, 0, 0xFFFFFFFF,  # signature, flags, time, access bits, parent
        0, 0, 0xFFFFFFFF, 0xFFFFFFFF,  # subkeys, volatile subkeys, their lists
        0, 0xFFFFFFFF,  # values, value list
        sk_offset, 0xFFFFFFFF,  # security, class name
        0, 0, 0, 0, 0,  # largest subkey name, class name, value name, value data; WorkVar
        len(name), 0,
    )
    return head + name


def sk(self_offset: int) -> bytes:
    descriptor = struct.pack('<BBHIIII', 1, 0, 0x8000, 0, 0, 0, 0)  # SE_SELF_RELATIVE, nothing present
    return struct.pack('<2sHIIII', b'sk', 0, self_offset, self_offset, 1, len(descriptor)) + descriptor


def checksum(block: bytes) -> int:
    x = 0
    for (word,) in struct.iter_unpack('<I', block[:508]):
        x ^= word
    return 1 if x == 0 else 0xFFFFFFFE if x == 0xFFFFFFFF else x


def hive(root_name: str) -> bytes:
    name = root_name.encode('ascii')
    root_at = 32  # right after the hbin header
    root = cell(nk(name, 0))  # sk offset patched below, once the nk's size is known
    sk_at = root_at + len(root)
    root = cell(nk(name, sk_at))
    security = cell(sk(sk_at))
    used = 32 + len(root) + len(security)
    free = struct.pack('<i', HBIN - used) + b'\0' * (HBIN - used - 4)
    hbin = struct.pack('<4sIIQQI', b'hbin', 0, HBIN, 0, FILETIME, 0) + root + security + free
    assert len(hbin) == HBIN
    file_name = 'empty'.encode('utf-16-le').ljust(64, b'\0')
    header = struct.pack('<4sIIQIIIIIII', b'regf', 1, 1, FILETIME, 1, 5, 0, 1, root_at, HBIN, 1) + file_name
    header = header.ljust(508, b'\0')
    block = header + struct.pack('<I', checksum(header))
    return block.ljust(BASE, b'\0') + hbin


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    with open(sys.argv[1], 'wb') as f:
        f.write(hive(sys.argv[2] if len(sys.argv) == 3 else 'ROOT'))


if __name__ == '__main__':
    main()
