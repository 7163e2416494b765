import { describe, expect, it } from 'vitest';
import type { PartitionFacts } from '../src/check/partition-facts.js';
import { servicingFindings } from '../src/check/servicing-rules.js';
import type { NtfsVolume } from '../src/fs/ntfs.js';
import { TYPE_GUIDS } from '../src/gpt/partition-types.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { syntheticDisk } from './helpers/synthetic-gpt.js';

/**
 * The servicing rules one edge at a time, over synthetic tables (2,048-sector alignment, 512-byte
 * sectors) and hand-set facts; test/fixtures.test.ts runs them on images made by sgdisk, mkntfs
 * and ntfs-3g. Slots: 1 Windows (Basic data holding \Windows\System32), 2 Recovery.
 */
const MIB_SECTORS = 2048;
const WINDOWS: readonly [number, number, string] = [2048, 2048 + 64 * MIB_SECTORS - 1, TYPE_GUIDS.BASIC_DATA];

async function findings(recovery: readonly [number, number], totalSectors: number, facts: Partial<PartitionFacts> = {}, extra: ReadonlyArray<readonly [number, number, string]> = []) {
  const g = await loadGpt(syntheticDisk({ totalSectors, partitions: [WINDOWS, [...recovery, TYPE_GUIDS.WINDOWS_RECOVERY], ...extra] }));
  const all: PartitionFacts[] = g.partitions.map((entry) => ({
    entry,
    size: (entry.lastLba - entry.firstLba + 1) * 512,
    filesystem: 'ntfs',
    efiFiles: [],
    windowsBoot: false,
    windowsSystem: entry.index === 1,
    outsideImage: false,
    ntfs: {} as NtfsVolume,
    ...(entry.index === 2 ? { winreImage: true, freeBytes: 400 * 1048576, freeBytesExact: false, ...facts } : {}),
  }));
  return servicingFindings(g, all);
}

const afterWindows = WINDOWS[1] + 1;
const recoveryOf = (start: number): readonly [number, number] => [start, start + 16 * MIB_SECTORS - 1];
/** A disk that ends just after the Recovery partition plus `free` sectors (the backup GPT's 33 sectors on top). */
const endingAfter = (r: readonly [number, number], free: number): number => r[1] + 1 + free + 33;

describe('recovery-placement', () => {
  it('is quiet when Recovery follows Windows within 1 MiB of alignment and the disk ends there', async () => {
    expect(await findings(recoveryOf(afterWindows), endingAfter(recoveryOf(afterWindows), 0))).toEqual([]);
    const aligned = recoveryOf(afterWindows + MIB_SECTORS);
    expect(await findings(aligned, endingAfter(aligned, 0))).toEqual([]);
  });

  it('names a gap of more than 1 MiB between Windows and Recovery', async () => {
    const r = recoveryOf(afterWindows + MIB_SECTORS + 1);
    const [f] = await findings(r, endingAfter(r, 0));
    expect(f).toMatchObject({ code: 'recovery-placement', severity: 'warning', partition: 2 });
    expect(f!.message).toMatch(/not directly after the Windows partition \(partition 1\) but after 1\.0 MiB of free space: KB5028997/);
  });

  it('names the partition that sits between them', async () => {
    const r = recoveryOf(afterWindows + 8 * MIB_SECTORS);
    const [f] = await findings(r, endingAfter(r, 0), {}, [[afterWindows, afterWindows + 8 * MIB_SECTORS - 1, TYPE_GUIDS.BASIC_DATA]]);
    expect(f!.message).toMatch(/not directly after the Windows partition \(partition 1\) but after partition 3/);
  });

  it('counts free space after Recovery from 64 MiB on, up to the end the disk allows', async () => {
    const r = recoveryOf(afterWindows);
    expect(await findings(r, endingAfter(r, 64 * MIB_SECTORS - 1))).toEqual([]);
    const [f] = await findings(r, endingAfter(r, 64 * MIB_SECTORS));
    expect(f!.message).toMatch(/sits between the Windows partition \(partition 1\) and 64 MiB of unallocated space: C: cannot be extended/);
  });

  it('counts space past an old backup GPT: a grown disk is judged as repair will leave it', async () => {
    const r = recoveryOf(afterWindows);
    // The table ends where the disk ended before it grew by 100 MiB; the usable range still says so.
    const source = syntheticDisk({ totalSectors: endingAfter(r, 100 * MIB_SECTORS), lastUsableLba: r[1], partitions: [WINDOWS, [...r, TYPE_GUIDS.WINDOWS_RECOVERY]] });
    const g = await loadGpt(source);
    const facts = g.partitions.map((entry): PartitionFacts => ({ entry, size: 0, filesystem: 'ntfs', efiFiles: [], windowsBoot: false, windowsSystem: entry.index === 1, outsideImage: false }));
    expect(servicingFindings(g, facts).map((f) => f.message)).toEqual([expect.stringMatching(/and 100 MiB of unallocated space/)]);
  });

  it('says nothing about placement without a Windows partition', async () => {
    const r = recoveryOf(afterWindows + 64 * MIB_SECTORS);
    const g = await loadGpt(syntheticDisk({ totalSectors: endingAfter(r, 0), partitions: [WINDOWS, [...r, TYPE_GUIDS.WINDOWS_RECOVERY]] }));
    const facts = g.partitions.map((entry): PartitionFacts => ({ entry, size: 0, filesystem: 'ntfs', efiFiles: [], windowsBoot: false, windowsSystem: false, outsideImage: false }));
    expect(servicingFindings(g, facts)).toEqual([]);
  });
});

describe('os-low-space', () => {
  const r = recoveryOf(afterWindows);
  it('notes a Windows partition under 20 GiB free, and not at 20 GiB or a lower bound above it', async () => {
    const g = await loadGpt(syntheticDisk({ totalSectors: endingAfter(r, 0), partitions: [WINDOWS, [...r, TYPE_GUIDS.WINDOWS_RECOVERY]] }));
    const facts = (windowsFree: number, exact: boolean): PartitionFacts[] => g.partitions.map((entry) => ({
      entry, size: 0, filesystem: 'ntfs', efiFiles: [], windowsBoot: false, windowsSystem: entry.index === 1, outsideImage: false,
      ...(entry.index === 1 ? { freeBytes: windowsFree, freeBytesExact: exact } : {}),
    }));
    const [f, ...rest] = servicingFindings(g, facts(20 * 1024 ** 3 - 4096, true));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'os-low-space', severity: 'info', partition: 1 });
    expect(f!.message).toMatch(/is the Windows partition \(\\Windows\\System32\) with 20\.0 GiB free; feature updates need about 20 GiB free and otherwise fail with 0xC190020E \/ 0x80070070/);
    expect(servicingFindings(g, facts(20 * 1024 ** 3, false))).toEqual([]);
  });
});

describe('WinRE on the Recovery partition', () => {
  const r = recoveryOf(afterWindows);
  const total = endingAfter(r, 0);

  it('warns under 250 MiB free, with the figure and the steps, and not at 250 MiB or a lower bound above it', async () => {
    const [f] = await findings(r, total, { freeBytes: 250 * 1048576 - 512, freeBytesExact: true });
    expect(f).toMatchObject({ code: 'winre-low-space', severity: 'warning', partition: 2 });
    expect(f!.message).toMatch(/only 250\.0 MiB free; .* need 250 MiB free and fail with 0x80070643\. Microsoft's KB5028997 steps: reagentc \/disable/);
    expect(await findings(r, total, { freeBytes: 250 * 1048576, freeBytesExact: false })).toEqual([]);
  });

  it('says the steps cannot work when Recovery is not after Windows', async () => {
    const away = recoveryOf(afterWindows + 4 * MIB_SECTORS);
    const codes = await findings(away, endingAfter(away, 0), { freeBytes: 10 * 1048576, freeBytesExact: true });
    expect(codes.map((f) => f.code)).toEqual(['recovery-placement', 'winre-low-space']);
    expect(codes[1]!.message).toMatch(/Those steps need the Recovery partition directly after the Windows partition, which it is not here$/);
  });

  it('notes a Recovery partition without Winre.wim instead of judging its space', async () => {
    const [f, ...rest] = await findings(r, total, { winreImage: false, freeBytes: 1048576, freeBytesExact: true });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'winre-image-missing', severity: 'info', partition: 2 });
  });

  it('notes a BitLocker Recovery partition and judges nothing inside it', async () => {
    const found = await findings(r, total, { filesystem: 'bitlocker', winreImage: false });
    expect(found.map((f) => `${f.code}:${f.severity}`)).toEqual(['recovery-encrypted:info']);
  });
});
