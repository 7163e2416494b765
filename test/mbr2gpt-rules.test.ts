import { describe, expect, it } from 'vitest';
import { hasMbrWindowsEvidence, mbr2gptFindings } from '../src/check/mbr2gpt-rules.js';
import { minimumEspBytes } from '../src/check/windows-rules.js';
import type { BcdDevice, BcdStore } from '../src/fs/bcd.js';
import { loadGpt, type LoadedGpt } from '../src/read/load-gpt.js';
import { readMbrLayout } from '../src/read/mbr-layout.js';
import type { MbrSystem, MbrVolumeFacts } from '../src/read/mbr-system.js';
import { memory, sfdiskImage } from './helpers/images.js';

/**
 * The MBR2GPT readiness rules one reason at a time. Layouts (LBA 0 and the EBR chains) are written
 * by sfdisk and read by gptdoctor; what the volumes hold (boot files, OS, BitLocker, free space)
 * and the BCD are set by hand, as test/fixtures.test.ts runs the rules on volumes that mkntfs,
 * ntfs-3g and hivexregedit made.
 */
const SIGNATURE = 0x0d15c0de;
const LOADER = 'A1B2C3D4-0001-11EE-8000-000000000001';
const MIB = 1024 * 1024;

/** The usual Windows 10 BIOS layout: a 100 MiB System Reserved partition, then Windows. */
const TWO = 'label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=100MiB, type=7, bootable\nsize=24MiB, type=7\n';

const mbrDevice = (g: LoadedGpt, lba: number): BcdDevice => ({ kind: 'partition', style: 'mbr', partitionOffset: lba * g.sectorSize, diskSignature: SIGNATURE });

function store(osDevice: BcdDevice | undefined, edit: Partial<BcdStore> = {}): BcdStore {
  return {
    bootManager: { defaultObject: LOADER },
    loaders: [{ id: LOADER, description: 'Windows 10', path: '\\Windows\\system32\\winload.exe', ...(osDevice ? { osDevice, device: osDevice } : {}) }],
    problems: [],
    ...edit,
  };
}

interface Layout {
  g: LoadedGpt;
  system: MbrSystem;
  /** The volume of partition `n`, to set facts on. */
  v(n: number): MbrVolumeFacts;
}

/**
 * An sfdisk layout in which partition `sys` is the system partition (\bootmgr, \Boot\BCD) and
 * `os` the OS partition the BCD's default entry boots, all NTFS; tests then change one thing.
 */
async function layout(script: string, sizeMiB: number, sys = 1, os = 2): Promise<Layout> {
  const g = await loadGpt(memory(sfdiskImage(script, sizeMiB)));
  const mbrLayout = await readMbrLayout(g);
  const volumes: MbrVolumeFacts[] = mbrLayout.partitions
    .filter((p) => p.kind !== 'extended')
    .map((partition) => ({
      partition,
      size: partition.sizeLba * g.sectorSize,
      filesystem: 'ntfs',
      bootmgr: partition.number === sys,
      bcdFile: partition.number === sys,
      windowsSystem: partition.number === os,
      outsideImage: false,
      ...(partition.number === os ? { freeBytes: 200 * MIB, freeBytesExact: false } : {}),
    }));
  const osStart = mbrLayout.partitions.find((p) => p.number === os)?.startLba ?? 0;
  const system: MbrSystem = { layout: mbrLayout, volumes, bcd: { partition: sys, reading: { state: 'read', store: store(mbrDevice(g, osStart)) } } };
  return { g, system, v: (n) => volumes.find((x) => x.partition.number === n)! };
}

function judge(l: Layout) {
  const [finding, ...rest] = mbr2gptFindings(l.g, l.system);
  expect(rest).toEqual([]);
  return finding!;
}

const reasons = (l: Layout): string[] => judge(l).reasons ?? [];

describe('mbr2gpt-ready', () => {
  it('a System Reserved of 100 MiB beside Windows: ready, and the system partition becomes the ESP', async () => {
    const f = judge(await layout(TWO, 128));
    expect(f.code).toBe('mbr2gpt-ready');
    expect(f.severity).toBe('info');
    expect(f.reasons).toBeUndefined();
    expect(f.message).toContain('partition 1 (active, NTFS) is the system partition, the default entry boots partition 2 (NTFS)');
    expect(f.message).toContain('reuse partition 1 (active, NTFS), 100 MiB, as the EFI system partition');
  });

  it('one partition holding both boot files and Windows: a new ESP is carved from it', async () => {
    const l = await layout('label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=120MiB, type=7, bootable\n', 128, 1, 1);
    const f = judge(l);
    expect(f.code).toBe('mbr2gpt-ready');
    expect(f.message).toContain('would not reuse partition 1 (active, NTFS) as the ESP (it is also the OS partition): a new 100 MiB ESP would be carved from the end of partition 1');
  });

  it('a system partition under 100 MiB or over 1 GiB is not reused', async () => {
    const small = await layout('label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=99MiB, type=7, bootable\nsize=24MiB, type=7\n', 128);
    expect(judge(small).message).toContain('(it is 99 MiB, outside 100 MiB to 1 GiB): a new 100 MiB ESP would be carved from the end of partition 2');
    const big = await layout(TWO, 128);
    big.v(1).size = 1024 * MIB + 512;
    expect(judge(big).message).toContain('outside 100 MiB to 1 GiB');
    big.v(1).size = 1024 * MIB;
    expect(judge(big).message).toContain('reuse partition 1');
  });

  it('on 4K-sector disks the reused system partition must hold 260 MiB', async () => {
    expect(minimumEspBytes(512)).toBe(100 * MIB);
    expect(minimumEspBytes(4096)).toBe(260 * MIB);
    const l = await layout(TWO, 128);
    const g4k = { ...l.g, sectorSize: 4096 } as LoadedGpt;
    l.system.bcd = { partition: 1, reading: { state: 'read', store: store(mbrDevice(g4k, l.v(2).partition.startLba)) } };
    const f = judge({ ...l, g: g4k });
    expect(f.code).toBe('mbr2gpt-ready');
    expect(f.message).toContain('(it is 100 MiB, outside 260 MiB to 1 GiB): a new 260 MiB ESP would be carved');
  });

  it('the default entry may name its OS by the "boot" device (the partition holding the store)', async () => {
    const l = await layout('label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=120MiB, type=7, bootable\n', 128, 1, 1);
    l.system.bcd = { partition: 1, reading: { state: 'read', store: store({ kind: 'boot' }) } };
    expect(judge(l).code).toBe('mbr2gpt-ready');
  });
});

describe('mbr2gpt-blocked, one reason at a time', () => {
  it('four primary partitions leave no slot for the ESP', async () => {
    const l = await layout(`${TWO}size=1MiB, type=7\nsize=1MiB, type=7\n`, 130);
    const f = judge(l);
    expect(f.code).toBe('mbr2gpt-blocked');
    expect(f.severity).toBe('error');
    expect(f.reasons).toEqual(['4 partitions in the MBR: mbr2gpt converts at most 3 primary partitions, as the ESP needs a fourth']);
    expect(f.message).toMatch(/^this Windows MBR disk cannot be converted to GPT by mbr2gpt as it is: 4 partitions in the MBR.*\. Once it can, conversion would reuse partition 1/);
  });

  it('an extended partition and its logical partitions (read through the EBR chain sfdisk wrote)', async () => {
    // sfdisk makes logical partitions only when named by number (5, 6) in the script.
    const script = 'label: dos\nlabel-id: 0x0D15C0DE\ndisk.img1 : start=2048, size=100MiB, type=7, bootable\ndisk.img2 : size=60MiB, type=5\ndisk.img5 : size=24MiB, type=7\ndisk.img6 : size=24MiB, type=7\n';
    const l = await layout(script, 170, 1, 5);
    expect(l.system.layout.partitions.filter((p) => p.kind === 'logical').map((p) => [p.startLba, p.sizeLba])).toEqual([[208896, 49152], [260096, 49152]]);
    expect(l.system.layout.partitions.map((p) => [p.number, p.kind])).toEqual([[1, 'primary'], [2, 'extended'], [5, 'logical'], [6, 'logical']]);
    expect(reasons(l)).toEqual(['partition 2 is an extended partition (type 0x05) holding logical partitions 5, 6: mbr2gpt converts only primary partitions']);
  });

  it('no active partition, naming the one that holds the boot files', async () => {
    const l = await layout(TWO.replace(', bootable', ''), 128);
    expect(reasons(l)).toEqual(['no partition is marked active: mbr2gpt needs the active partition to be the system partition (partition 1 (NTFS) holds the boot files; mark it active)']);
  });

  it('two active partitions', async () => {
    const l = await layout(TWO.replace('size=24MiB, type=7', 'size=24MiB, type=7, bootable'), 128);
    expect(reasons(l)).toEqual(['2 partitions are marked active (1, 2): an MBR allows one']);
  });

  it('an active partition without \\bootmgr or \\Boot\\BCD is not the system partition', async () => {
    const l = await layout(TWO, 128);
    l.v(1).bootmgr = false;
    l.v(1).bcdFile = false;
    expect(reasons(l)).toEqual(['the active partition 1 (active, NTFS) holds neither \\bootmgr nor \\Boot\\BCD, so it is not the system partition']);
  });

  it('less than 16 KiB + 2 sectors before the first partition', async () => {
    const l = await layout(TWO.replace('start=2048', 'start=33'), 128);
    expect(reasons(l)).toEqual(['partition 1 starts at LBA 33: mbr2gpt needs 16 KiB + 2 sectors (LBA 0 to 33) before the first partition for the MBR, the GPT header and its entries']);
    expect(judge(await layout(TWO.replace('start=2048', 'start=34'), 128)).code).toBe('mbr2gpt-ready');
  });

  it('less than 16 KiB + 1 sector after the last partition, with how much to shrink', async () => {
    const full = await layout(TWO.replace('size=24MiB, type=7', 'type=7'), 128);
    expect(reasons(full)).toEqual(['partition 2 ends 0 sectors before the end of the disk: mbr2gpt needs 16 KiB + 1 sector (33 sectors) after the last partition for the backup GPT; shrink partition 2 by 33 sectors (16896 bytes) first']);
    // 128 MiB = 262,144 sectors; a partition ending 33 sectors before the end leaves just enough.
    const enough = await layout(TWO.replace('size=24MiB, type=7', `size=${262144 - 33 - 206848}, type=7`), 128);
    expect(judge(enough).code).toBe('mbr2gpt-ready');
    const short = await layout(TWO.replace('size=24MiB, type=7', `size=${262144 - 32 - 206848}, type=7`), 128);
    expect(reasons(short)).toEqual([expect.stringContaining('partition 2 ends 32 sectors before the end of the disk')]);
  });

  it('no BCD default entry pointing at an OS partition, for each way it can be missing', async () => {
    const cases: Array<[string, (l: Layout) => void]> = [
      ['no partition holds \\Boot\\BCD', (l) => void delete l.system.bcd],
      ['\\Boot\\BCD is not a readable hive (no regf)', (l) => void (l.system.bcd!.reading = { state: 'unreadable', reason: 'no regf' })],
      ['the store has no {bootmgr} object', (l) => void delete (l.system.bcd!.reading as { store: BcdStore }).store.bootManager],
      ['{bootmgr} has no default object (element 23000003)', (l) => void delete (l.system.bcd!.reading as { store: BcdStore }).store.bootManager!.defaultObject],
      ['the default object {0badc0de-0000-4000-8000-000000000000} is not a Windows Boot Loader in the store', (l) => void ((l.system.bcd!.reading as { store: BcdStore }).store.bootManager!.defaultObject = '0BADC0DE-0000-4000-8000-000000000000')],
      ['the default entry "Windows 10" has no osdevice', (l) => void (l.system.bcd!.reading = { state: 'read', store: store(undefined) })],
      ['the default entry "Windows 10" has osdevice partition at offset 105906176 of disk 0x0BADF00D, which is no partition of this disk', (l) => void (l.system.bcd!.reading = { state: 'read', store: store({ ...mbrDevice(l.g, 206848), diskSignature: 0x0badf00d } as BcdDevice) })],
      ['the default entry "Windows 10" has osdevice partition at offset 512 of disk 0x0D15C0DE, which is no partition of this disk', (l) => void (l.system.bcd!.reading = { state: 'read', store: store(mbrDevice(l.g, 1)) })],
      ['the default entry "Windows 10" boots partition 2 (NTFS), which holds no \\Windows\\System32', (l) => void (l.v(2).windowsSystem = false)],
    ];
    for (const [why, edit] of cases) {
      const l = await layout(TWO, 128);
      edit(l);
      expect(reasons(l), why).toEqual([`no BCD default entry pointing at an OS partition: ${why}`]);
    }
  });

  it('a type Windows does not recognise needs /map; a dynamic disk cannot be converted', async () => {
    const linux = await layout(`${TWO}size=1MiB, type=83\n`, 128);
    expect(reasons(linux)).toEqual(['partition 3 (NTFS) has type 0x83, which Windows does not recognise: mbr2gpt needs `/map:0x83={GPT type GUID}` for it']);
    const ldm = await layout(`${TWO}size=1MiB, type=42\n`, 128);
    expect(reasons(ldm)).toEqual(['partition 3 (NTFS) has type 0x42 (a dynamic disk): mbr2gpt converts only basic disks']);
    for (const type of ['1', '4', '6', 'b', 'c', 'e', '27']) expect(judge(await layout(`${TWO}size=1MiB, type=${type}\n`, 128)).code, type).toBe('mbr2gpt-ready');
  });

  it('a BitLocker volume', async () => {
    const l = await layout(TWO, 128);
    l.v(2).filesystem = 'bitlocker';
    l.v(2).windowsSystem = false;
    expect(reasons(l)).toEqual(['partition 2 (BitLocker) is a BitLocker volume: mbr2gpt refuses to convert while BitLocker protects it; suspend it first (`manage-bde -protectors -disable C:`)']);
  });

  it('a new ESP that the OS partition has no free space for', async () => {
    const l = await layout('label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=120MiB, type=7, bootable\n', 128, 1, 1);
    Object.assign(l.v(1), { freeBytes: 40 * MIB, freeBytesExact: true });
    expect(reasons(l)).toEqual(['mbr2gpt would carve a new 100 MiB ESP from partition 1 (active, NTFS) (partition 1 (active, NTFS) is not reused: it is also the OS partition), but it has only 40 MiB free']);
  });

  it('gives every reason at once', async () => {
    const l = await layout('label: dos\nlabel-id: 0x0D15C0DE\nstart=2048, size=8MiB, type=7\nsize=16MiB, type=7\nsize=4MiB, type=c\ntype=83\n', 64);
    (l.system.bcd!.reading as { store: BcdStore }).store.bootManager = {};
    expect(reasons(l).map((r) => r.split(':')[0])).toEqual([
      '4 partitions in the MBR',
      'no partition is marked active',
      'partition 4 ends 0 sectors before the end of the disk',
      'no BCD default entry pointing at an OS partition',
      'partition 4 (NTFS) has type 0x83, which Windows does not recognise',
    ]);
  });
});

describe('which MBR disks show Windows', () => {
  it('a partition with \\bootmgr or \\Boot\\BCD, or a store whose loader names an OS device', async () => {
    const l = await layout(TWO, 128);
    expect(hasMbrWindowsEvidence(l.system)).toBe(true);
    for (const v of l.system.volumes) Object.assign(v, { bootmgr: false, bcdFile: false });
    expect(hasMbrWindowsEvidence(l.system)).toBe(true);
    delete l.system.bcd;
    expect(hasMbrWindowsEvidence(l.system)).toBe(false);
  });
});

describe('the EBR chain, when it is hostile', () => {
  const script = 'label: dos\nlabel-id: 0x0D15C0DE\ndisk.img1 : start=2048, size=100MiB, type=7, bootable\ndisk.img2 : size=60MiB, type=5\ndisk.img5 : size=24MiB, type=7\ndisk.img6 : size=24MiB, type=7\n';
  const EXTENDED_START = 206848;
  /** The image with the first EBR's link to the next one (its second record's start, relative to the extended partition) set to `next`. */
  async function linked(next: number) {
    const bytes = sfdiskImage(script, 170);
    const view = new DataView(bytes.buffer);
    view.setUint32(EXTENDED_START * 512 + 446 + 16 + 8, next, true);
    return readMbrLayout(await loadGpt(memory(bytes)));
  }

  it('a link back to an EBR already read ends the walk with a problem, never a hang', async () => {
    const l = await linked(0);
    expect(l.partitions.map((p) => p.number)).toEqual([1, 2, 5]);
    expect(l.problems).toEqual([`the EBR chain loops back to LBA ${EXTENDED_START}`]);
  });

  it('a link outside the extended partition is a problem', async () => {
    const l = await linked(0x7fffffff);
    expect(l.problems).toEqual([`an EBR link points to LBA ${EXTENDED_START + 0x7fffffff}, outside the extended partition or the disk`]);
  });

  it('an EBR without 0x55AA is a problem; the partitions before it stay listed', async () => {
    const bytes = sfdiskImage(script, 170);
    bytes[(260096 - 2048) * 512 + 510] = 0;
    const l = await readMbrLayout(await loadGpt(memory(bytes)));
    expect(l.partitions.map((p) => p.number)).toEqual([1, 2, 5]);
    expect(l.problems).toEqual(['the EBR at LBA 258048 has no 0x55AA signature']);
  });

  it('a blocked verdict names what could not be read', async () => {
    const l = await layout(script, 170, 1, 5);
    l.system.layout.problems.push('the EBR chain loops back to LBA 206848');
    expect(reasons(l)).toContain('the extended partition cannot be read: the EBR chain loops back to LBA 206848');
  });
});
