import { beforeAll, describe, expect, it } from 'vitest';
import { checkLoaded } from '../src/report/check-report.js';
import { put32, put64 } from '../src/gpt/le.js';
import { computeHeaderCrc } from '../src/gpt/header.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { inspectReport } from '../src/report/inspect-report.js';
import { memory, sfdiskImage } from './helpers/images.js';
import { haveTools, prng } from './helpers/tools.js';

/**
 * Hostile input: header fields set to absurd values (with the CRC fixed up so validation has to
 * look deeper), and thousands of random mutations of the table area. Every run must end with a
 * report, never a crash, a hang or a huge allocation.
 */
const SCRIPT = 'label: gpt\nstart=2048, size=8192, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\nsize=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n';

async function analyse(bytes: Uint8Array): Promise<void> {
  const source = memory(bytes);
  const g = await loadGpt(source);
  await inspectReport(g);
  const report = await checkLoaded(g, 'fuzz.img', 'windows');
  expect(Array.isArray(report.findings)).toBe(true);
  // Bounded work: a hostile header must never make us read more than the table plus a few sectors per partition.
  expect(source.bytesRead).toBeLessThan(80 * 1024 * 1024);
}

/** Sets a header field in both copies (primary at LBA 1, backup at the last LBA) and fixes the CRC. */
function setField(bytes: Uint8Array, offset: number, width: 4 | 8, value: number | bigint, which: 'primary' | 'backup' | 'both' = 'both'): Uint8Array {
  const out = bytes.slice();
  const lbas = which === 'both' ? [1, out.length / 512 - 1] : which === 'primary' ? [1] : [out.length / 512 - 1];
  for (const lba of lbas) {
    const sector = out.subarray(lba * 512, lba * 512 + 512);
    if (width === 4) put32(sector, offset, Number(value));
    else put64(sector, offset, value);
    put32(sector, 16, computeHeaderCrc(sector));
  }
  return out;
}

describe.runIf(haveTools('sfdisk'))('hostile and mutated tables', () => {
  // Built in beforeAll: the describe body runs during collection even when the tools are missing.
  let base: Uint8Array = new Uint8Array(0);
  beforeAll(() => {
    base = sfdiskImage(SCRIPT, 16);
  });

  const cases: Array<[string, number, 4 | 8, number | bigint]> = [
    ['entry count 0', 80, 4, 0],
    ['entry count 2^32-1', 80, 4, 0xffffffff],
    ['entry size 0', 84, 4, 0],
    ['entry size 7', 84, 4, 7],
    ['entry size 2^31', 84, 4, 0x80000000],
    ['header size 0', 12, 4, 0],
    ['header size 4096', 12, 4, 4096],
    ['entries LBA past the end', 72, 8, 1n << 40n],
    ['entries LBA 2^64-1', 72, 8, (1n << 64n) - 1n],
    ['alternate LBA past the end', 32, 8, 1n << 50n],
    ['last usable past the end', 48, 8, 1n << 33n],
    ['first usable after last usable', 40, 8, 1n << 20n],
    ['my LBA wrong', 24, 8, 7],
  ];

  // The timeout is a hang guard (absurd sizes must not make gptdoctor loop), not a speed test.
  it.each(cases)('%s gives a clear report', async (_label, offset, width, value) => {
    const bytes = setField(base, offset, width, value);
    const g = await loadGpt(memory(bytes));
    const report = await checkLoaded(g, 'fuzz.img');
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.findings.every((f) => f.message.length > 10)).toBe(true);
  }, 10_000);

  it('truncated files of every length around the table give a report', async () => {
    for (const length of [0, 1, 511, 512, 513, 1024, 4096, 8192, 17408, 17920, 65536, 1048576]) {
      await analyse(base.slice(0, length));
    }
  });

  it('survives 3,000 random mutations of the MBR, headers and arrays', async () => {
    const rand = prng(0xf022);
    const lastLba = base.length / 512 - 1;
    const areas = [[0, 512 * 34], [(lastLba - 32) * 512, base.length], [2048 * 512, 2048 * 512 + 4096]] as const;
    for (let i = 0; i < 3000; i++) {
      const bytes = base.slice();
      const flips = 1 + Math.floor(rand() * 16);
      for (let f = 0; f < flips; f++) {
        const [from, to] = areas[Math.floor(rand() * areas.length)]!;
        const at = from + Math.floor(rand() * (to - from));
        bytes[at] = Math.floor(rand() * 256);
      }
      // Half of the runs fix the CRCs up, so that mutated fields get past the CRC check.
      if (rand() < 0.5) {
        for (const lba of [1, lastLba]) {
          const sector = bytes.subarray(lba * 512, lba * 512 + 512);
          put32(sector, 16, computeHeaderCrc(sector));
        }
      }
      await analyse(bytes);
    }
  }, 120_000);
});
