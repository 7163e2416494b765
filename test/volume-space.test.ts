import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import type { PartitionReport } from '../src/report/inspect-report.js';
import { fixtureBytes, memory } from './helpers/images.js';
import { canUseFuse, haveTools, run, tempDir } from './helpers/tools.js';

/**
 * Free space and labels of the FAT and NTFS volumes in committed fixtures, against the tools that
 * own those filesystems: mtools (mdir's "bytes free", minfo's label) and ntfs-3g (statvfs of a
 * read-only FUSE mount, ntfslabel). inspect counts every volume in full; check counts only as far
 * as its rules need, and says which figures are lower bounds.
 */
describe.runIf(haveTools('mdir', 'minfo', 'ntfs-3g', 'ntfslabel') && canUseFuse())('volume free space and labels against mtools and ntfs-3g', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /** The bytes of one partition, as its own file for the oracle. */
  function partitionFile(name: string, bytes: Uint8Array, p: PartitionReport): string {
    const file = join(dir.path, `${name}-${p.index}.part`);
    writeFileSync(file, bytes.subarray(p.firstLba * 512, (p.lastLba + 1) * 512));
    return file;
  }

  function mtoolsFree(file: string): number {
    const out = run('env', ['MTOOLS_SKIP_CHECK=1', 'mdir', '-i', file, '::/']);
    return Number(/([\d ]+) bytes free/.exec(out)![1]!.replace(/ /g, ''));
  }

  function ntfs3gFree(file: string): number {
    const mnt = join(dir.path, 'mnt');
    mkdirSync(mnt, { recursive: true });
    run('ntfs-3g', ['-o', 'ro', file, mnt]);
    try {
      const [blocks, blockSize] = run('stat', ['-f', '-c', '%f %S', mnt]).trim().split(' ').map(Number);
      return blocks! * blockSize!;
    } finally {
      run('umount', [mnt]);
    }
  }

  it.each(['windows', 'windows-winre', 'windows-winre-low', 'windows-esp-full', 'windows-esp-fat16', 'data', 'linux'])('%s: inspect gives every FAT and NTFS volume its exact free space and label', async (name) => {
    const bytes = fixtureBytes(name);
    const report = await inspectDisk(memory(bytes, false, `${name}.img`));
    const volumes = report.partitions.filter((p) => p.filesystem === 'ntfs' || /^fat/.test(p.filesystem ?? ''));
    expect(volumes.length).toBeGreaterThan(0);
    for (const p of volumes) {
      const file = partitionFile(name, bytes, p);
      if (p.filesystem === 'ntfs') {
        expect(p.freeBytes).toBe(ntfs3gFree(file));
        expect(p.label).toBe(run('ntfslabel', ['--force', file]).trim());
      } else {
        expect(p.freeBytes).toBe(mtoolsFree(file));
        expect(p.label).toBe(/disk label="(.*)"/.exec(run('env', ['MTOOLS_SKIP_CHECK=1', 'minfo', '-i', file]))![1]!.trim());
      }
      expect(p.freeBytesAtLeast).toBeUndefined();
    }
    for (const p of report.partitions.filter((q) => !volumes.includes(q))) expect(p.freeBytes).toBeUndefined();
  });

  it('check counts free space as far as the rules need: exact under the threshold, a lower bound above it', async () => {
    const bytes = fixtureBytes('windows-winre-low');
    const report = await checkDisk(memory(bytes, false, 'windows-winre-low.img'));
    const [esp, msr, windows, recovery] = report.partitions;
    // The ESP has far more than the 15 MiB the esp-low-space rule needs: counting stopped there.
    expect(esp!.freeBytes).toBeUndefined();
    expect(esp!.freeBytesAtLeast).toBeGreaterThanOrEqual(15 * 1024 * 1024);
    expect(esp!.freeBytesAtLeast).toBeLessThanOrEqual(mtoolsFree(partitionFile('check', bytes, esp!)));
    expect(esp!.label).toBe('SYSTEM');
    expect(msr!.freeBytes ?? msr!.freeBytesAtLeast).toBeUndefined();
    // The Windows partition is far under the 20 GiB feature updates need: its count is exact too.
    expect(windows!.freeBytes).toBe(ntfs3gFree(partitionFile('check', bytes, windows!)));
    expect(windows!.label).toBe('Windows');
    // Recovery is under the 250 MiB WinRE needs, so its count is exact, and the finding quotes it.
    const free = ntfs3gFree(partitionFile('check', bytes, recovery!));
    expect(recovery!.freeBytes).toBe(free);
    const finding = report.findings.find((f) => f.code === 'winre-low-space')!;
    expect(finding.partition).toBe(4);
    expect(finding.message).toContain(`only ${(free / 1048576).toFixed(1)} MiB free`);
    expect(finding.message).toMatch(/KB5034441.*0x80070643.*KB5028997.*reagentc \/disable.*shrink desired=250.*reagentc \/enable/);
  });

  it('check --profile structure reads no volume: no label, no free space', async () => {
    const report = await checkDisk(memory(fixtureBytes('windows'), false, 'windows.img'), { profile: 'structure' });
    for (const p of report.partitions) expect([p.label, p.freeBytes, p.freeBytesAtLeast]).toEqual([undefined, undefined, undefined]);
  });
});
