import { describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { syntheticDisk, type SyntheticDisk } from './helpers/synthetic-gpt.js';

/** The structural findings of a synthetic disk, as "code:severity:partition". */
async function findings(d: SyntheticDisk): Promise<string[]> {
  const report = await checkDisk(syntheticDisk(d), { profile: 'structure' });
  return report.findings.map((f) => `${f.code}:${f.severity}${f.partition !== undefined ? `:${f.partition}` : ''}`);
}

const MiB512 = 2048; // sectors per MiB at 512 bytes

describe('structure rules on synthetic tables', () => {
  it('a clean 1 MiB-aligned table has no finding', async () => {
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 4095], [4096, 65502]] })).toEqual([]);
  });

  it('overlapping partitions: one partition-overlap, on the first of the pair', async () => {
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 8191], [6144, 12287]] })).toEqual(['partition-overlap:error:1']);
  });

  it('the usable range: a partition one sector before FirstUsableLBA or past LastUsableLBA is out of range', async () => {
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 4095]], firstUsableLba: 2049 })).toContain('partition-out-of-range:error:1');
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 65503]] })).toContain('partition-out-of-range:error:1');
    // Exactly at the edges is fine.
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 65502]] })).toEqual([]);
  });

  it('a partition over the primary array is in the table area (and the array overlapping FirstUsableLBA is its own error)', async () => {
    const codes = await findings({ totalSectors: 65536, partitions: [[30, 2047]], firstUsableLba: 30 });
    expect(codes).toContain('partition-in-table-area:error:1');
    expect(codes).toContain('array-in-usable-range:error');
  });

  it('alignment: an end off a MiB boundary is info, except at the last usable LBA; a start off 4 KiB is a warning', async () => {
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 3000]] })).toEqual(['partition-misaligned:info:1']);
    expect(await findings({ totalSectors: 65536, partitions: [[2048, 65502]] })).toEqual([]);
    expect(await findings({ totalSectors: 65536, partitions: [[2049, 4095]] })).toEqual(['partition-misaligned:warning:1']);
    expect(await findings({ totalSectors: 65536, partitions: [[2056, 4095]] })).toEqual(['partition-misaligned:info:1']);
  });

  it('4Kn: a 16 KiB array is 4 sectors, 256 sectors are a MiB, and every start is on a 4 KiB boundary', async () => {
    const fourK = { sectorSize: 4096, totalSectors: 16384 };
    expect(await findings({ ...fourK, partitions: [[256, 511], [512, 16378]] })).toEqual([]);
    expect(await findings({ ...fourK, partitions: [[257, 511]] })).toEqual(['partition-misaligned:info:1']);
    expect(await findings({ ...fourK, partitions: [[5, 255]] })).toContain('partition-in-table-area:error:1');
    expect(await findings({ ...fourK, partitions: [[6, 255]] })).toEqual(['partition-misaligned:info:1']);
  });

  it('an array of fewer than 128 entries is array-small, at either sector size', async () => {
    expect(await findings({ totalSectors: 65536, entryCount: 4, partitions: [[MiB512, 2 * MiB512 - 1]] })).toEqual(['array-small:warning']);
    expect(await findings({ sectorSize: 4096, totalSectors: 16384, entryCount: 32, partitions: [[256, 511]] })).toEqual(['array-small:warning']);
  });
});
