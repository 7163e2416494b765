import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureBytes, manifest, memory } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * The Windows BCD store on the ESP, cross-checked against the table. The stores are written by
 * scripts/make-bcd-reg.py and hivexregedit into ESPs that mkfs.fat and mtools made; the stale one
 * comes from `sgdisk -G`, which gives the disk and every partition new GUIDs as a cloning tool does.
 */
const OLD_DISK = '6A1F2B3C-4D5E-4F60-8172-93A4B5C6D7E8';
const OLD_ESP = '11111111-0000-4000-8000-000000000001';
const OLD_WINDOWS = '11111111-0000-4000-8000-000000000003';

describe('BCD cross-checks', () => {
  it('inspect lists the store: {bootmgr} on the ESP, the loader on the Windows partition', async () => {
    const report = await inspectDisk(memory(fixtureBytes('windows'), false, 'windows.img'));
    expect(report.bcd).toEqual({
      partition: 1,
      path: '\\EFI\\Microsoft\\Boot\\BCD',
      state: 'read',
      problems: [],
      entries: [
        { object: '{bootmgr}', device: { kind: 'partition', partition: 1, partitionGuid: OLD_ESP, diskGuid: OLD_DISK } },
        {
          object: '{a1b2c3d4-0001-11ee-8000-000000000001}',
          description: 'Windows 11',
          path: '\\Windows\\system32\\winload.efi',
          device: { kind: 'partition', partition: 3, partitionGuid: OLD_WINDOWS, diskGuid: OLD_DISK },
          osDevice: { kind: 'partition', partition: 3, partitionGuid: OLD_WINDOWS, diskGuid: OLD_DISK },
        },
      ],
    });
  });

  it('after sgdisk -G, every reference names the stale GUIDs and the partition most likely meant', async () => {
    const facts = manifest()['windows-bcd-stale']!.sfdisk!.partitiontable;
    const byIndex = (n: number): string => facts.partitions!.find((p) => p.node.endsWith(`img${n}`))!.uuid;
    const report = await checkDisk(memory(fixtureBytes('windows-bcd-stale'), false, 'stale.img'));
    const stale = report.findings.filter((f) => f.code === 'bcd-device-missing');
    expect(stale.map((f) => f.message.replace(/ names .*/, ''))).toEqual([
      'the BCD on partition 1 ("EFI system partition"): {bootmgr} device',
      'the BCD on partition 1 ("EFI system partition"): Windows Boot Loader "Windows 11" device',
      'the BCD on partition 1 ("EFI system partition"): Windows Boot Loader "Windows 11" osdevice',
    ]);
    expect(stale[0]!.message).toContain(`partition GUID ${OLD_ESP}, which no partition of this disk has and disk GUID ${OLD_DISK}, not this disk's ${facts.id}`);
    expect(stale[0]!.message).toContain(`most likely meant partition 1 ("EFI system partition") (GUID ${byIndex(1)})`);
    expect(stale[2]!.message).toContain(`most likely meant partition 3 ("Basic data partition") (GUID ${byIndex(3)})`);
    for (const f of stale) expect(f.message).toMatch(/0xc000000e; rebuild it from WinPE with `bcdboot C:\\Windows \/s S: \/f UEFI`/);
    for (const f of stale) expect(f.fix).toBeUndefined();
    expect((await inspectDisk(memory(fixtureBytes('windows-bcd-stale'), false, 'stale.img'))).bcd!.entries[1]!.osDevice).toMatchObject({ partition: null, partitionGuid: OLD_WINDOWS });
  });

  it('a missing store and one that is not a hive are errors of their own', async () => {
    const missing = await checkDisk(memory(fixtureBytes('windows-bcd-missing'), false, 'm.img'));
    expect(missing.findings.find((f) => f.code === 'bcd-missing')!.message).toMatch(/bootmgfw\.efi but no \\EFI\\Microsoft\\Boot\\BCD: Windows Boot Manager stops with 0xc000000f/);
    const broken = await checkDisk(memory(fixtureBytes('windows-bcd-unreadable'), false, 'u.img'));
    expect(broken.findings.find((f) => f.code === 'bcd-unreadable')!.message).toMatch(/not a valid registry hive \(.+\)/);
    expect((await inspectDisk(memory(fixtureBytes('windows-bcd-missing'), false, 'm.img'))).bcd).toMatchObject({ state: 'missing', entries: [] });
  });
});

describe.runIf(haveTools('sgdisk'))('set --guid on a partition the BCD names', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('warns in the plan, before anything is written; a partition the BCD does not name gets no warning', () => {
    const file = join(dir.path, 'disk.img');
    writeFileSync(file, fixtureBytes('windows'));
    const before = run('sha256sum', [file]);
    const named = gptdoctor(['set', file, '3', '--guid', 'random', '--dry-run']);
    expect(named.status).toBe(0);
    expect(named.stdout).toMatch(/WARNING: the Windows BCD on partition 1 names partition 3 \(Windows Boot Loader "Windows 11" device, Windows Boot Loader "Windows 11" osdevice\)\. After this change Windows Boot Manager stops with 0xc000000e/);
    const json = JSON.parse(gptdoctor(['set', file, '1', '--guid', 'random', '--dry-run', '--json']).stdout);
    expect(json.plan.notes[0]).toMatch(/names partition 1 \(\{bootmgr\} device\)/);
    expect(gptdoctor(['set', file, '4', '--guid', 'random', '--dry-run']).stdout).not.toMatch(/WARNING: the Windows BCD/);
    expect(run('sha256sum', [file])).toBe(before);
  });

  it('--new-guids gives a copy new disk and partition GUIDs: sgdisk agrees, the copy no longer collides, undo restores it', () => {
    const original = join(dir.path, 'original.img');
    const copy = join(dir.path, 'copy.img');
    writeFileSync(original, fixtureBytes('windows'));
    writeFileSync(copy, fixtureBytes('windows'));
    const before = run('sha256sum', [copy]).split(' ')[0];
    const undoFile = join(dir.path, 'copy.undo.json');
    const result = gptdoctor(['set', copy, '--new-guids', '--yes', '--undo-file', undoFile]);
    expect(result.status).toBe(0);
    const guids = (file: string): string[] => [
      /Disk identifier \(GUID\): (\S+)/.exec(run('sgdisk', ['-p', file]))![1]!,
      ...[1, 2, 3, 4].map((n) => /Partition unique GUID: (\S+)/.exec(run('sgdisk', ['-i', String(n), file]))![1]!),
    ];
    const [a, b] = [guids(original), guids(copy)];
    for (let i = 0; i < a.length; i++) expect(b[i]).not.toBe(a[i]);
    expect(new Set(b).size).toBe(b.length);
    expect(run('sgdisk', ['-v', copy])).toMatch(/No problems found/);
    const scan = gptdoctor(['scan', '--json', original, copy]);
    expect(scan.stdout).not.toMatch(/collision/);
    expect(gptdoctor(['undo', undoFile, '--yes']).status).toBe(0);
    expect(run('sha256sum', [copy]).split(' ')[0]).toBe(before);
  });

  it('--new-guids stands alone', () => {
    const file = join(dir.path, 'alone.img');
    writeFileSync(file, fixtureBytes('windows'));
    expect(gptdoctor(['set', file, '1', '--new-guids']).stderr).toMatch(/--new-guids changes every GUID of the disk: give it alone/);
    expect(gptdoctor(['set', file]).stderr).toMatch(/<partition> is missing/);
  });
});
