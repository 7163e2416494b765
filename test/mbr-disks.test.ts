import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureBytes, memory } from './helpers/images.js';
import { tempDir } from './helpers/tools.js';

/**
 * Windows MBR disks made by scripts/make-mbr-images.sh (sfdisk label dos, mkntfs, ntfs-3g, a BCD
 * store by make-bcd-reg.py --mbr and hivexregedit): what mbr2gpt /validate would say, the
 * \Boot\BCD store of the system partition, and how inspect shows an MBR disk.
 */
const check = (name: string) => checkDisk(memory(fixtureBytes(name), false, `${name}.img`));
const finding = async (name: string, code: string) => (await check(name)).findings.find((f) => f.code === code);
const SYSTEM_OFFSET = 2048 * 512;
const WINDOWS_OFFSET = 206848 * 512;

describe('MBR2GPT readiness on MBR disks that mkntfs and ntfs-3g made', () => {
  it('a 100 MiB System Reserved partition beside Windows is ready and becomes the ESP', async () => {
    const f = await finding('windows-mbr', 'mbr2gpt-ready');
    expect(f?.message).toContain('partition 1 (active, NTFS "System Reserved") is the system partition, the default entry boots partition 2 (NTFS "Windows")');
    expect(f?.message).toContain('conversion would reuse partition 1 (active, NTFS "System Reserved"), 100 MiB, as the EFI system partition');
  });

  it('Windows on the active partition itself: ready, and a new ESP is carved from its free space', async () => {
    const f = await finding('windows-mbr-single', 'mbr2gpt-ready');
    expect(f?.message).toContain('(it is also the OS partition): a new 100 MiB ESP would be carved from the end of partition 1 (active, NTFS "Windows")');
  });

  it('four primaries, none active, a partition to the last sector, no default entry and a Linux type: every reason at once', async () => {
    const f = await finding('windows-mbr-blocked', 'mbr2gpt-blocked');
    expect(f?.severity).toBe('error');
    expect(f?.reasons).toEqual([
      '4 partitions in the MBR: mbr2gpt converts at most 3 primary partitions, as the ESP needs a fourth',
      'no partition is marked active: mbr2gpt needs the active partition to be the system partition (partition 1 (NTFS "System Reserved") holds the boot files; mark it active)',
      'partition 4 ends 0 sectors before the end of the disk: mbr2gpt needs 16 KiB + 1 sector (33 sectors) after the last partition for the backup GPT; shrink partition 4 by 33 sectors (16896 bytes) first',
      'no BCD default entry pointing at an OS partition: {bootmgr} has no default object (element 23000003)',
      'partition 4 has type 0x83, which Windows does not recognise: mbr2gpt needs `/map:0x83={GPT type GUID}` for it',
    ]);
  });

  it('Windows on a logical partition: the extended partition blocks, and the 8 MiB system partition cannot be the ESP', async () => {
    const f = await finding('windows-mbr-extended', 'mbr2gpt-blocked');
    expect(f?.reasons?.[0]).toBe('partition 2 is an extended partition (type 0x05) holding logical partition 5: mbr2gpt converts only primary partitions');
    expect(f?.reasons?.[1]).toMatch(/^mbr2gpt would carve a new 100 MiB ESP from partition 5 \(logical, NTFS "Windows"\) \(partition 1 \(active, NTFS "System Reserved"\) is not reused: it is 8 MiB, outside 100 MiB to 1 GiB\), but it has only [\d.]+ MiB free$/);
    expect(f?.reasons).toHaveLength(2);
  });

  it('a BitLocker volume blocks; the BCD default entry still counts, as its partition cannot be read', async () => {
    const f = await finding('windows-mbr-bitlocker', 'mbr2gpt-blocked');
    expect(f?.reasons).toEqual(['partition 2 (BitLocker) is a BitLocker volume: mbr2gpt refuses to convert while BitLocker protects it; suspend it first (`manage-bde -protectors -disable C:`)']);
    expect(f?.message).toContain('Once it can, conversion would reuse partition 1');
  });

  it('check exits 1 on a blocked disk and 0 on a ready one, and lists the reasons one a line', () => {
    const dir = tempDir();
    try {
      const blocked = join(dir.path, 'legacy.img');
      const ready = join(dir.path, 'win10.img');
      writeFileSync(blocked, fixtureBytes('windows-mbr-blocked'));
      writeFileSync(ready, fixtureBytes('windows-mbr'));
      const b = gptdoctor(['check', blocked]);
      expect(b.status).toBe(1);
      expect(b.stdout).toContain('MBR-partitioned (no GPT), rules: windows (auto)');
      expect(b.stdout).toContain('  mbr2gpt-blocked: this Windows MBR disk cannot be converted to GPT by mbr2gpt as it is:\n    - 4 partitions in the MBR');
      expect(b.stdout.trim().split('\n').at(-1)).toBe('✗ 1 error, 1 warning: mbr2gpt cannot convert this disk as it is.');
      const r = gptdoctor(['check', '--json', ready]);
      expect(r.status).toBe(0);
      expect((JSON.parse(r.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code)).toEqual(['mbr-disk', 'mbr2gpt-ready']);
    } finally {
      dir.cleanup();
    }
  });

  it('an MBR disk with no Windows gets no MBR2GPT verdict, and the structure profile reads no partition', async () => {
    expect((await check('mbr-only')).findings.map((f) => f.code)).toEqual(['mbr-disk']);
    const source = memory(fixtureBytes('windows-mbr'), false, 'windows-mbr.img');
    const report = await checkDisk(source, { profile: 'structure' });
    expect(report.findings.map((f) => f.code)).toEqual(['mbr-disk']);
    expect(source.bytesRead).toBeLessThan(64 * 1024);
  });
});

describe('the \\Boot\\BCD store of an MBR disk', () => {
  it('inspect lists the partitions, as sfdisk numbers them, and the store with its devices by offset and signature', async () => {
    const report = await inspectDisk(memory(fixtureBytes('windows-mbr'), false, 'windows-mbr.img'));
    expect(report.table).toBe('none');
    expect(report.mbrDisk?.partitions.map((p) => [p.number, p.kind, p.type, p.active, p.filesystem, p.label])).toEqual([
      [1, 'primary', '0x07', true, 'ntfs', 'System Reserved'],
      [2, 'primary', '0x07', false, 'ntfs', 'Windows'],
    ]);
    const device = (offset: number, partition: number) => ({ kind: 'partition', partition, partitionOffset: offset, diskSignature: '0x0D15C0DE' });
    expect(report.mbrDisk?.bcd).toEqual({
      partition: 1,
      path: '\\Boot\\BCD',
      state: 'read',
      problems: [],
      entries: [
        { object: '{bootmgr}', device: device(SYSTEM_OFFSET, 1) },
        { object: '{a1b2c3d4-0001-11ee-8000-000000000001}', description: 'Windows 10', path: '\\Windows\\system32\\winload.exe', device: device(WINDOWS_OFFSET, 2), osDevice: device(WINDOWS_OFFSET, 2) },
      ],
    });
  });

  it('inspect in text says it is an MBR disk, not that there is no partition table', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'win10.img');
      writeFileSync(file, fixtureBytes('windows-mbr-extended'));
      const r = gptdoctor(['inspect', file]);
      expect(r.status).toBe(1);
      expect(r.stdout).not.toContain('No valid partition table');
      expect(r.stdout).toContain('No GPT: this is an MBR-partitioned disk');
      expect(r.stdout).toMatch(/\n {2}5 {2}logical +20480 +86015 +32\.0 MiB {2}0x07 +ntfs +Windows\n/);
      expect(r.stdout).toContain('Boot configuration (\\Boot\\BCD on partition 1):');
    } finally {
      dir.cleanup();
    }
  });

  it('after sfdisk --disk-id, every device names the old signature, and the partition most likely meant', async () => {
    const stale = (await check('windows-mbr-bcd-stale')).findings.filter((f) => f.code === 'bcd-device-missing');
    expect(stale.map((f) => f.message.split(': ')[1]!.split(' names')[0])).toEqual(['{bootmgr} device', 'Windows Boot Loader "Windows 10" device', 'Windows Boot Loader "Windows 10" osdevice']);
    expect(stale[2]!.message).toBe(
      'the BCD on partition 1 (active, NTFS "System Reserved"): Windows Boot Loader "Windows 10" osdevice names disk signature 0x0D15C0DE, not this disk\'s 0x0BADF00D; ' +
        `it most likely meant partition 2 (NTFS "Windows") (at byte offset ${WINDOWS_OFFSET} of disk 0x0BADF00D). Windows Boot Manager stops with 0xc000000e; ` +
        'rebuild it from WinPE with `bcdboot C:\\Windows /s S: /f BIOS` (C: the Windows partition, S: the system partition given a letter)',
    );
    expect(stale.every((f) => f.partition === 1)).toBe(true);
    const blocked = await finding('windows-mbr-bcd-stale', 'mbr2gpt-blocked');
    expect(blocked?.reasons).toEqual([`no BCD default entry pointing at an OS partition: the default entry "Windows 10" has osdevice partition at offset ${WINDOWS_OFFSET} of disk 0x0D15C0DE, which is no partition of this disk`]);
  });

  it('\\bootmgr without \\Boot\\BCD is bcd-missing, with the BIOS bcdboot line', async () => {
    const f = await finding('windows-mbr-bcd-missing', 'bcd-missing');
    expect(f?.message).toBe('partition 1 (active, NTFS "System Reserved") holds \\bootmgr but no \\Boot\\BCD: Windows Boot Manager stops with 0xc000000f; rebuild it from WinPE with `bcdboot C:\\Windows /s S: /f BIOS` (C: the Windows partition, S: the system partition given a letter)');
    expect(f?.partition).toBe(1);
  });
});

