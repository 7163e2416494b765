import { describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { memory, sfdiskImage } from './helpers/images.js';
import { prng } from './helpers/tools.js';

/**
 * Field-aware fuzzing of the MBR disk reader (LBA 0 and the EBR chain) under check and inspect.
 * A mutation writes a boundary value into a record field of LBA 0 or of an EBR that sfdisk wrote:
 * the boot indicator, the type (extended types included, so that chains start anywhere), the
 * start and the size (0, all ones, bit 31, ± 1, the disk size, a pointer back at the EBR itself).
 * The only acceptable outcome is a report: no exception, no hang (each case within CASE_MS).
 * MBR_FUZZ_CASES and MBR_FUZZ_SEED change the number of cases and the seed.
 */
const CASES = Number(process.env.MBR_FUZZ_CASES ?? 300);
const SEED = Number(process.env.MBR_FUZZ_SEED ?? 0x3b2);
const CASE_MS = 1000;

const SCRIPT = 'label: dos\nlabel-id: 0x0D15C0DE\ndisk.img1 : start=2048, size=4MiB, type=7, bootable\ndisk.img2 : size=12MiB, type=5\ndisk.img5 : size=3MiB, type=7\ndisk.img6 : size=3MiB, type=83\ndisk.img7 : size=3MiB, type=c\n';
/** The sectors holding partition records: LBA 0, then each EBR (the logical partitions' starts minus 2048). */
const RECORD_SECTORS = [0, 10240, 18432, 26624];

describe('MBR and EBR fuzzing', () => {
  it(`${CASES} mutated MBR disks give a report, never an exception or a hang`, async () => {
    const base = sfdiskImage(SCRIPT, 24);
    const sectors = base.length / 512;
    const rand = prng(SEED);
    const below = (n: number): number => Math.floor(rand() * n);
    const slowest: number[] = [];
    let chainProblems = 0;
    for (let i = 0; i < CASES; i++) {
      const b = new Uint8Array(base);
      const view = new DataView(b.buffer);
      const mutations = 1 + below(3);
      for (let m = 0; m < mutations; m++) {
        const sector = RECORD_SECTORS[below(RECORD_SECTORS.length)]!;
        const record = sector * 512 + 446 + 16 * below(4);
        const field = below(4);
        if (field === 0) b[record] = [0, 0x80, 0x7f, 0xff][below(4)]!;
        else if (field === 1) b[record + 4] = [0x05, 0x0f, 0x85, 0x07, 0x00, 0x42, 0xee][below(7)]!;
        else {
          const values = [0, 0xffffffff, 0x80000000, sectors, sectors - 1, 1, sector, view.getUint32(record + (field === 2 ? 8 : 12), true) + 1];
          view.setUint32(record + (field === 2 ? 8 : 12), values[below(values.length)]! >>> 0, true);
        }
      }
      const started = performance.now();
      const source = memory(b, false, `fuzz-${i}.img`);
      const report = await checkDisk(source);
      expect(report.findings.length).toBeGreaterThan(0);
      const inspected = await inspectDisk(memory(b, false, `fuzz-${i}.img`));
      expect(inspected.source.size).toBe(b.length);
      if (inspected.mbrDisk?.problems.length) chainProblems++;
      slowest.push(performance.now() - started);
    }
    expect(Math.max(...slowest)).toBeLessThan(CASE_MS);
    // The mutations reach the EBR walk's refusals (loops, links off the partition, no 0x55AA).
    expect(chainProblems).toBeGreaterThan(CASES / 20);
  }, 120_000);
});
