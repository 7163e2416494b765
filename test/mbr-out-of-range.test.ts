import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { tempDir } from './helpers/tools.js';

/**
 * MBR disks someone cut short or read at the wrong sector size. Before, such a disk was only "an
 * MBR disk" (mbr-disk, exit 0), and its missing partitions went unmentioned. The fixtures are
 * scripts/make-mbr-images.sh's (sfdisk label dos); the clipping is done by coreutils `head -c`,
 * as a copy of a disk's first part would be.
 */
const dir = tempDir('mbr-clipped-');
afterAll(() => dir.cleanup());

/** The first `bytes` of a fixture, as `head -c` writes them. */
function clipped(name: string, bytes: number): string {
  const whole = fixtureFile(name, dir.path);
  const out = join(dir.path, `${name}-first-${bytes}.img`);
  execFileSync('bash', ['-c', `head -c ${bytes} "$1" > "$2"`, 'clip', whole, out]);
  return out;
}

const checkJson = (args: string[]) => {
  const r = gptdoctor(['check', '--json', ...args]);
  return { status: r.status, report: JSON.parse(r.stdout) as { findings: Array<{ code: string; severity: string; partition?: number; message: string; reasons?: string[] }> } };
};
const outOfRange = <F extends { code: string }>(findings: F[]): F[] => findings.filter((f) => f.code === 'partition-out-of-range');

describe('an MBR disk whose partitions run past the end of the image', () => {
  it('a copy cut inside the extended partition: the extended partition is out of range, and mbr2gpt is not told to shrink it', () => {
    // windows-mbr-extended: partition 1 at 2048+16384, the extended partition 2 at 18432+81920.
    const { status, report } = checkJson([clipped('windows-mbr-extended', 20 * 1024 * 1024)]);
    expect(status).toBe(1);
    const found = outOfRange(report.findings);
    expect(found.map((f) => f.partition)).toEqual([2]);
    expect(found[0]!.message).toContain('MBR partition 2 (type 0x05, the extended partition with its logical ones, LBA 18432..100351) runs past the end of the disk (last LBA 40959)');
    expect(found[0]!.message).toContain('the image is shorter than the disk its MBR was written for');
    expect(report.findings.some((f) => f.code === 'mbr-disk')).toBe(true);
    const blocked = report.findings.find((f) => f.code === 'mbr2gpt-blocked');
    expect(blocked?.reasons).toContain('partition 2 runs 59392 sectors past the end of the disk: the image is cut short or read with the wrong sector size, so what mbr2gpt would need after it cannot be judged');
    expect(JSON.stringify(report)).not.toMatch(/shrink partition 2/);
  });

  it('a copy that ends before a primary partition starts: that one lies past the end, the one it cut runs past it', () => {
    // windows-mbr: partition 1 at 2048+204800, partition 2 at 206848+49152; keep 50 MiB.
    const { status, report } = checkJson([clipped('windows-mbr', 50 * 1024 * 1024)]);
    expect(status).toBe(1);
    const found = outOfRange(report.findings);
    expect(found.map((f) => f.partition)).toEqual([1, 2]);
    expect(found[0]!.message).toContain('MBR partition 1 (type 0x07, LBA 2048..206847) runs past the end of the disk');
    expect(found[1]!.message).toContain('MBR partition 2 (type 0x07, LBA 206848..255999) lies past the end of the disk');
    const mbrDisk = report.findings.find((f) => f.code === 'mbr-disk');
    expect(mbrDisk?.message).not.toContain('shrink'); // a partition that is not there is not in the way of a backup GPT
  });

  it('a whole 512-byte disk read with --sector-size 4096: the finding says the sectors are wrong, not the image short', () => {
    const whole = fixtureFile('windows-mbr-extended', dir.path);
    const { status, report } = checkJson(['--sector-size', '4096', whole]);
    expect(status).toBe(1);
    const found = outOfRange(report.findings);
    expect(found.map((f) => f.partition)).toEqual([1, 2]);
    for (const f of found) expect(f.message).toContain('with 512-byte sectors every partition fits: the disk was read with 4096-byte sectors (--sector-size)');
  });

  it('the same disks whole, at their own sector size, have no such finding', () => {
    for (const name of ['windows-mbr', 'windows-mbr-extended']) {
      const { report } = checkJson([fixtureFile(name, dir.path)]);
      expect(outOfRange(report.findings), name).toEqual([]);
    }
  });
});
