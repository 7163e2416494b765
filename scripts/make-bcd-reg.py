#!/usr/bin/env python3
"""Writes the .reg text of a Windows BCD store for scripts/make-test-hive.sh (root BCD00000000).

  make-bcd-reg.py OUT.reg DISK_GUID ESP_GUID WINDOWS_GUID

The store holds what bcdboot writes on a UEFI disk, as far as gptdoctor reads it: {bootmgr} with
its device on the ESP, path, description and default object; one Windows Boot Loader with device
and osdevice on the Windows partition, path and description. Device elements are composed here,
byte by byte, per the layout the BCD-SYS scripts write (independently of gptdoctor's decoder):
0x10 device type (6 = partition), 0x18 data length, 0x20 the partition GUID, 0x34 partition style
(0 = GPT), 0x38 the disk GUID. GUIDs are mixed-endian, as in the GPT (uuid's bytes_le).
"""
import struct
import sys
import uuid

BOOTMGR = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}'
LOADER = '{a1b2c3d4-0001-11ee-8000-000000000001}'
ROOT = 'HKEY_LOCAL_MACHINE\\BCD00000000'


def hexes(data):
    return ','.join('%02x' % b for b in data)


def sz(text):
    # hivexregedit widens each byte of a quoted string, so strings are given as REG_SZ bytes
    return 'hex(1):' + hexes((text + '\0').encode('utf-16-le'))


def device(partition, disk):
    d = bytearray(0x58)
    struct.pack_into('<I', d, 0x10, 6)
    struct.pack_into('<I', d, 0x18, 0x48)
    d[0x20:0x30] = uuid.UUID(partition).bytes_le
    struct.pack_into('<I', d, 0x34, 0)
    d[0x38:0x48] = uuid.UUID(disk).bytes_le
    return 'hex:' + hexes(d)


def main():
    out, disk, esp, windows = sys.argv[1:5]
    objects = [
        (BOOTMGR, 0x10100002, {'11000001': device(esp, disk), '12000002': sz('\\EFI\\Microsoft\\Boot\\bootmgfw.efi'),
                               '12000004': sz('Windows Boot Manager'), '23000003': sz(LOADER)}),
        (LOADER, 0x10200003, {'11000001': device(windows, disk), '12000002': sz('\\Windows\\system32\\winload.efi'),
                              '12000004': sz('Windows 11'), '21000001': device(windows, disk)}),
    ]
    lines = ['Windows Registry Editor Version 5.00', '', '[%s\\Description]' % ROOT, '"KeyName"="BCD00000000"', '', '[%s\\Objects]' % ROOT]
    for oid, otype, elements in objects:
        key = '%s\\Objects\\%s' % (ROOT, oid)
        lines += ['', '[%s]' % key, '', '[%s\\Description]' % key, '"Type"=dword:%08x' % otype, '', '[%s\\Elements]' % key]
        for eid, value in elements.items():
            lines += ['', '[%s\\Elements\\%s]' % (key, eid), '"Element"=%s' % value]
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
