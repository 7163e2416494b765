import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_MANAGER_ID, OBJECT_TYPE_BOOT_LOADER, OBJECT_TYPE_BOOT_MANAGER, decodeBcd, decodeDevice, type BcdStore } from '../src/fs/bcd.js';
import { openHive, type Hive } from '../src/fs/regf.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { DISK, ESP, LOADER_1, LOADER_2, MEMDIAG, SCRIPT, WINDOWS, bcdReg, binary, braced, gptStore, otherDevice, partitionDevice, sz, type BcdObject } from './helpers/bcd-reg.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * BCD stores built by hivexregedit from .reg text (scripts/make-test-hive.sh, root
 * "BCD00000000" as Windows names it): Description\Type as REG_DWORD, elements as REG_BINARY
 * device records composed per the layout in src/fs/bcd.ts, REG_SZ and REG_MULTI_SZ strings.
 * hivexget reads each device element back, so the bytes decoded are the bytes hivex stored.
 */
describe.runIf(haveTools('python3', 'hivexregedit', 'hivexget'))('BCD decoder on hivex-made stores', () => {
  const dir = tempDir('gptdoctor-bcd-');
  afterAll(() => dir.cleanup());
  let n = 0;

  async function store(objects: BcdObject[]): Promise<{ file: string; hive: Hive }> {
    const reg = join(dir.path, `bcd${++n}.reg`);
    const file = join(dir.path, `bcd${n}.hive`);
    writeFileSync(reg, bcdReg(objects));
    run('bash', [SCRIPT, file, 'BCD00000000', reg]);
    return { file, hive: await openHive(new Uint8Array(readFileSync(file))) };
  }

  const elementViaHivex = (file: string, object: string, element: string): Buffer =>
    execFileSync('hivexget', [file, `\\Objects\\${braced(object)}\\Elements\\${element}`, 'Element']);

  it('a GPT store: boot manager on the ESP, two loaders on the Windows partition, other objects skipped', async () => {
    const espDevice = partitionDevice('gpt', ESP, DISK);
    const windowsDevice = partitionDevice('gpt', WINDOWS, DISK);
    const { file, hive } = await store(gptStore());
    const gpt = { kind: 'partition', style: 'gpt', diskGuid: DISK } as const;
    expect(decodeBcd(hive)).toEqual<BcdStore>({
      bootManager: { device: { ...gpt, partitionGuid: ESP }, defaultObject: LOADER_1, displayOrder: [LOADER_1, LOADER_2] },
      loaders: [
        { id: LOADER_1, description: 'Windows 10', path: '\\Windows\\system32\\winload.efi', device: { ...gpt, partitionGuid: WINDOWS }, osDevice: { ...gpt, partitionGuid: WINDOWS } },
        { id: LOADER_2, description: 'Windows 11 — второй', path: '\\Windows\\system32\\winload.efi', device: { ...gpt, partitionGuid: WINDOWS }, osDevice: { ...gpt, partitionGuid: WINDOWS } },
      ],
      problems: [],
    });
    // the bytes hivex stored are the bytes composed, and decode the same on their own
    const viaHivex = elementViaHivex(file, BOOT_MANAGER_ID, '11000001');
    expect(new Uint8Array(viaHivex)).toEqual(espDevice);
    expect(decodeDevice(new Uint8Array(viaHivex))).toEqual({ ...gpt, partitionGuid: ESP });
    expect(new Uint8Array(elementViaHivex(file, LOADER_2, '21000001'))).toEqual(windowsDevice);
  });

  it('GUIDs are mixed-endian as in the GPT (bytes written by hand, not by encodeGuid)', () => {
    const d = otherDevice(6);
    d.set([0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], 0x20);
    d.set([0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10], 0x38);
    expect(decodeDevice(d)).toEqual({ kind: 'partition', style: 'gpt', partitionGuid: '00112233-4455-6677-8899-AABBCCDDEEFF', diskGuid: '01020304-0506-0708-090A-0B0C0D0E0F10' });
  });

  it('an MBR store: partition offsets and the disk signature', async () => {
    const { file, hive } = await store([
      { id: BOOT_MANAGER_ID, type: OBJECT_TYPE_BOOT_MANAGER, elements: { '11000001': binary(partitionDevice('mbr', 1048576, 0x1234abcd)), '23000003': sz(braced(LOADER_1)) } },
      {
        id: LOADER_1,
        type: OBJECT_TYPE_BOOT_LOADER,
        elements: { '11000001': binary(partitionDevice('mbr', 105906176, 0x1234abcd)), '21000001': binary(partitionDevice('mbr', 105906176, 0x1234abcd)), '12000002': sz('\\Windows\\system32\\winload.exe') },
      },
    ]);
    const bcd = decodeBcd(hive);
    expect(bcd.bootManager).toEqual({ device: { kind: 'partition', style: 'mbr', partitionOffset: 1048576, diskSignature: 0x1234abcd }, defaultObject: LOADER_1 });
    expect(bcd.loaders).toEqual([
      {
        id: LOADER_1,
        path: '\\Windows\\system32\\winload.exe',
        device: { kind: 'partition', style: 'mbr', partitionOffset: 105906176, diskSignature: 0x1234abcd },
        osDevice: { kind: 'partition', style: 'mbr', partitionOffset: 105906176, diskSignature: 0x1234abcd },
      },
    ]);
    expect(bcd.problems).toEqual([]);
    expect(decodeDevice(new Uint8Array(elementViaHivex(file, LOADER_1, '21000001')))).toEqual(bcd.loaders[0]!.osDevice);
  });

  it('boot and other devices, truncated and mistyped device elements, an unknown partition style', async () => {
    const truncated = partitionDevice('gpt', WINDOWS, DISK).slice(0, 0x30);
    const noDiskGuid = partitionDevice('gpt', WINDOWS, DISK).slice(0, 0x40);
    const badStyle = partitionDevice('gpt', WINDOWS, DISK);
    badStyle[0x34] = 7;
    const { hive } = await store([
      { id: LOADER_1, type: OBJECT_TYPE_BOOT_LOADER, elements: { '11000001': binary(otherDevice(5)), '21000001': binary(otherDevice(3)) } },
      { id: LOADER_2, type: OBJECT_TYPE_BOOT_LOADER, elements: { '11000001': binary(truncated), '21000001': binary(noDiskGuid) } },
      { id: MEMDIAG, type: OBJECT_TYPE_BOOT_LOADER, elements: { '11000001': binary(badStyle), '21000001': sz('partition=C:'), '12000004': binary(new Uint8Array(4)) } },
      { id: BOOT_MANAGER_ID, type: OBJECT_TYPE_BOOT_MANAGER, elements: { '11000001': binary(new Uint8Array(8)) } },
    ]);
    const bcd = decodeBcd(hive);
    expect(bcd.loaders.map((l) => [l.device, l.osDevice])).toEqual([
      [{ kind: 'boot' }, { kind: 'other', deviceType: 3 }],
      [
        { kind: 'unreadable', reason: 'element 11000001: the partition device element is 48 bytes; its partition style (at 0x34) needs 56' },
        { kind: 'unreadable', reason: 'element 21000001: the GPT partition device element is 64 bytes; its disk GUID (at 0x38) needs 72' },
      ],
      [
        { kind: 'unreadable', reason: 'element 11000001: partition style 7 is neither GPT (0) nor MBR (1)' },
        { kind: 'unreadable', reason: 'element 21000001 is REG_SZ, not REG_BINARY' },
      ],
    ]);
    expect(bcd.bootManager).toEqual({ device: { kind: 'unreadable', reason: 'element 11000001: the device element is 8 bytes; its device type (at 0x10) needs 20' } });
    expect(bcd.problems).toEqual([`object ${braced(MEMDIAG)}: element 12000004 is REG_BINARY, not REG_SZ`]);
  });

  it('missing elements are left out; odd names and a bad default are problems; no Objects key is not a BCD', async () => {
    const { hive } = await store([
      { id: BOOT_MANAGER_ID, type: OBJECT_TYPE_BOOT_MANAGER, elements: { '23000003': sz('{not-a-guid}') } },
      { id: LOADER_1, type: OBJECT_TYPE_BOOT_LOADER, elements: { '12000004': sz('no devices, no path') } },
      { id: LOADER_2, type: OBJECT_TYPE_BOOT_LOADER, elements: {} },
      { id: 'NotAGuid', type: OBJECT_TYPE_BOOT_LOADER, elements: {} },
      { id: 'A1B2C3D4-0003-11EE-8000-000000000003', elements: { '11000001': binary(otherDevice(5)) } }, // no Description\Type: not a loader
    ]);
    expect(decodeBcd(hive)).toEqual<BcdStore>({
      bootManager: {},
      loaders: [{ id: LOADER_1, description: 'no devices, no path' }, { id: LOADER_2 }],
      // in stored order: hivex sorts subkeys by upper-case name, and "N" comes before "{"
      problems: ['object NotAGuid: the key name is not a GUID', `object ${braced(BOOT_MANAGER_ID)}: element 23000003 (default object) "{not-a-guid}" is not a GUID`],
    });
    const empty = join(dir.path, 'empty.hive');
    run('python3', [new URL('../scripts/make-empty-hive.py', import.meta.url).pathname, empty, 'BCD00000000']);
    const bare = await openHive(new Uint8Array(readFileSync(empty)));
    expect(() => decodeBcd(bare)).toThrow(VolumeUnreadable);
    expect(() => decodeBcd(bare)).toThrow('not a BCD store: the hive has no Objects key');
    expect(decodeBcd(hive).bootManager?.device).toBeUndefined();
  });
});
