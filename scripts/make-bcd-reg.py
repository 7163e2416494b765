#!/usr/bin/env python3
"""Writes the .reg text of a Windows BCD store for scripts/make-test-hive.sh (root BCD00000000).

  make-bcd-reg.py OUT.reg DISK_GUID ESP_GUID WINDOWS_GUID
  make-bcd-reg.py OUT.reg --mbr DISK_SIGNATURE SYSTEM_OFFSET WINDOWS_OFFSET [--no-default]

The store holds what bcdboot writes, as far as gptdoctor reads it. On a UEFI (GPT) disk:
{bootmgr} with its device on the ESP, path (\\EFI\\Microsoft\\Boot\\bootmgfw.efi), description and
default object; one Windows Boot Loader with device and osdevice on the Windows partition, path
(winload.efi) and description ("Windows 11").

With --mbr, what bcdboot writes on a BIOS (MBR) disk: {bootmgr} with its device on the system
partition, description and default object (left out with --no-default), and no path (the BIOS
bootmgr needs none); the Windows Boot Loader with device and osdevice on the Windows partition,
path \\Windows\\system32\\winload.exe and description "Windows 10". DISK_SIGNATURE is the MBR disk
signature in hex (0x0D15C0DE); the offsets are the partitions' byte offsets on the disk (start
LBA * 512), in decimal or 0x hex.

Device elements (REG_BINARY, 0x58 bytes) are composed here, byte by byte, per the layout the
BCD-SYS scripts write (independently of gptdoctor's decoder): 0x10 device type (6 = partition),
0x18 data length (0x48), then
  GPT:  0x20 the partition GUID, 0x34 partition style 0, 0x38 the disk GUID. GUIDs are
        mixed-endian, as in the GPT (uuid's bytes_le).
  MBR:  0x20 the partition's byte offset (u64 little-endian), 0x34 partition style 1, 0x38 the
        MBR disk signature (u32 little-endian).
Everything else is zero.
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


def mbr_device(offset, signature):
    d = bytearray(0x58)
    struct.pack_into('<I', d, 0x10, 6)
    struct.pack_into('<I', d, 0x18, 0x48)
    struct.pack_into('<Q', d, 0x20, offset)
    struct.pack_into('<I', d, 0x34, 1)
    struct.pack_into('<I', d, 0x38, signature)
    return 'hex:' + hexes(d)


def gpt_objects(disk, esp, windows):
    return [
        (BOOTMGR, 0x10100002, {'11000001': device(esp, disk), '12000002': sz('\\EFI\\Microsoft\\Boot\\bootmgfw.efi'),
                               '12000004': sz('Windows Boot Manager'), '23000003': sz(LOADER)}),
        (LOADER, 0x10200003, {'11000001': device(windows, disk), '12000002': sz('\\Windows\\system32\\winload.efi'),
                              '12000004': sz('Windows 11'), '21000001': device(windows, disk)}),
    ]


def mbr_objects(signature, system, windows, default=True):
    bootmgr = {'11000001': mbr_device(system, signature), '12000004': sz('Windows Boot Manager')}
    if default:
        bootmgr['23000003'] = sz(LOADER)
    return [
        (BOOTMGR, 0x10100002, bootmgr),
        (LOADER, 0x10200003, {'11000001': mbr_device(windows, signature), '12000002': sz('\\Windows\\system32\\winload.exe'),
                              '12000004': sz('Windows 10'), '21000001': mbr_device(windows, signature)}),
    ]


def usage():
    sys.exit(__doc__.split('\n\n')[1])


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[1] == '--mbr':
        rest = args[2:]
        default = '--no-default' not in rest
        rest = [a for a in rest if a != '--no-default']
        if len(rest) != 3:
            usage()
        out = args[0]
        signature, system, windows = (int(v, 0) for v in rest)
        if not 0 <= signature <= 0xFFFFFFFF:
            sys.exit('DISK_SIGNATURE must fit 32 bits')
        objects = mbr_objects(signature, system, windows, default)
    else:
        if len(args) != 4:
            usage()
        out, disk, esp, windows = args
        objects = gpt_objects(disk, esp, windows)
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
