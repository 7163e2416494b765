import { BOOT_MANAGER_ID, OBJECT_TYPE_BOOT_LOADER, OBJECT_TYPE_BOOT_MANAGER } from '../../src/fs/bcd.js';
import { encodeGuid } from '../../src/gpt/guid.js';

/** .reg text for BCD-shaped hives (fed to scripts/make-test-hive.sh with root BCD00000000). */
export const SCRIPT = new URL('../../scripts/make-test-hive.sh', import.meta.url).pathname;
const ROOT = 'HKEY_LOCAL_MACHINE\\BCD00000000';

export const ESP = 'C0DE0001-1111-4222-8333-444455556666';
export const WINDOWS = 'C0DE0002-7777-4888-9999-AAAABBBBCCCC';
export const DISK = '0D15C000-ABCD-4EF0-8123-456789ABCDEF';
export const LOADER_1 = 'A1B2C3D4-0001-11EE-8000-000000000001';
export const LOADER_2 = 'A1B2C3D4-0002-11EE-8000-000000000002';
export const MEMDIAG = 'B2721D73-1DB4-4C62-BF78-C548A880142D';

const hexes = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(',');
export const binary = (b: Uint8Array): string => `hex:${hexes(b)}`;
export const sz = (s: string): string => `hex(1):${hexes(new Uint8Array(Buffer.from(`${s}\0`, 'utf16le')))}`;
export const multiSz = (list: string[]): string => `hex(7):${hexes(new Uint8Array(Buffer.from(`${list.join('\0')}\0\0`, 'utf16le')))}`;
export const dword = (n: number): string => `dword:${n.toString(16).padStart(8, '0')}`;
export const braced = (guid: string): string => `{${guid.toLowerCase()}}`;

/** A partition device element as Windows writes it (0x58 bytes). */
export function partitionDevice(style: 'gpt' | 'mbr', partition: string | number, disk: string | number): Uint8Array {
  const d = new Uint8Array(0x58);
  const v = new DataView(d.buffer);
  v.setUint32(0x10, 6, true); // device type: partition
  v.setUint32(0x18, 0x48, true); // the device data's length
  if (style === 'gpt') {
    encodeGuid(partition as string, d, 0x20);
    v.setUint32(0x34, 0, true);
    encodeGuid(disk as string, d, 0x38);
  } else {
    v.setBigUint64(0x20, BigInt(partition), true);
    v.setUint32(0x34, 1, true);
    v.setUint32(0x38, disk as number, true);
  }
  return d;
}

export function otherDevice(type: number, length = 0x48): Uint8Array {
  const d = new Uint8Array(length);
  new DataView(d.buffer).setUint32(0x10, type, true);
  return d;
}

export interface BcdObject {
  id: string;
  type?: number;
  /** Element id → the .reg text of its "Element" value. */
  elements: Record<string, string>;
}

export function bcdReg(objects: BcdObject[]): string {
  const lines = ['Windows Registry Editor Version 5.00', '', `[${ROOT}\\Description]`, '"KeyName"="BCD00000000"', '', `[${ROOT}\\Objects]`];
  for (const o of objects) {
    const key = `${ROOT}\\Objects\\${o.id.startsWith('{') || o.id.length !== 36 ? o.id : braced(o.id)}`;
    lines.push('', `[${key}]`);
    if (o.type !== undefined) lines.push('', `[${key}\\Description]`, `"Type"=${dword(o.type)}`);
    lines.push('', `[${key}\\Elements]`);
    for (const [id, value] of Object.entries(o.elements)) lines.push('', `[${key}\\Elements\\${id}]`, `"Element"=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A GPT store: {bootmgr} on the ESP, two Windows Boot Loaders on the Windows partition, {memdiag}. */
export function gptStore(): BcdObject[] {
  const espDevice = partitionDevice('gpt', ESP, DISK);
  const windowsDevice = partitionDevice('gpt', WINDOWS, DISK);
  return [
    {
      id: BOOT_MANAGER_ID,
      type: OBJECT_TYPE_BOOT_MANAGER,
      elements: {
        '11000001': binary(espDevice),
        '12000002': sz('\\EFI\\Microsoft\\Boot\\bootmgfw.efi'),
        '12000004': sz('Windows Boot Manager'),
        '23000003': sz(braced(LOADER_1)),
        '24000001': multiSz([braced(LOADER_1), braced(LOADER_2)]),
      },
    },
    {
      id: LOADER_1,
      type: OBJECT_TYPE_BOOT_LOADER,
      elements: { '11000001': binary(windowsDevice), '12000002': sz('\\Windows\\system32\\winload.efi'), '12000004': sz('Windows 10'), '21000001': binary(windowsDevice) },
    },
    { id: MEMDIAG, type: 0x10200005, elements: { '11000001': binary(espDevice), '12000004': sz('Windows Memory Diagnostic') } },
    {
      id: LOADER_2,
      type: OBJECT_TYPE_BOOT_LOADER,
      elements: { '11000001': binary(windowsDevice), '12000002': sz('\\Windows\\system32\\winload.efi'), '12000004': sz('Windows 11 — второй'), '21000001': binary(windowsDevice) },
    },
  ];
}
