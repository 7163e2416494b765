import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { fixtureFile, manifest } from './helpers/images.js';
import { haveTools, runAll, tempDir } from './helpers/tools.js';

/**
 * Oracle: every problem `sgdisk -v` prints about a fixture must be matched by a gptdoctor finding.
 * Each gdisk message maps to the codes that name the same fault; a gdisk message with no mapping
 * fails the test, so a new kind of complaint cannot slip through unnoticed.
 */
const GDISK_PROBLEMS: Array<[RegExp, string[]]> = [
  [/CRC for the main partition table is invalid/, ['primary-entries-bad', 'primary-header-bad']],
  [/CRC for the backup partition table is invalid/, ['backup-entries-bad', 'backup-header-bad', 'image-truncated']],
  [/Main and backup partition tables differ/, ['headers-disagree', 'primary-entries-bad', 'backup-entries-bad', 'primary-header-bad']],
  [/invalid main GPT header/, ['primary-header-bad']],
  [/secondary header's self-pointer/, ['backup-not-at-end', 'image-truncated']],
  [/Disk is too small to hold all the data|Disk size is smaller than the main header|GPT claims the disk is larger than it is/, ['image-truncated']],
  [/disk GUID .* doesn't\s+match the backup/s, ['headers-disagree']],
  [/Main partition table overlaps the first partition/, ['partition-in-table-area', 'partition-out-of-range']],
  [/Secondary partition table overlaps the last partition/, ['partition-in-table-area', 'no-gpt', 'mbr-disk']],
  [/partitions \d+ and \d+ overlap/, ['partition-overlap']],
  [/Error \d+ reading partition table for CRC check/, ['image-truncated', 'backup-entries-bad', 'primary-entries-bad']],
  [/Found invalid GPT and valid MBR/, ['no-gpt', 'mbr-disk']],
  [/doesn't (begin|end) on a \d+-sector boundary/, ['partition-misaligned', 'backup-not-at-end']],
];

const fixtures = Object.keys(manifest());

describe.runIf(haveTools('sgdisk'))('gptdoctor flags everything sgdisk -v flags', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each(fixtures)('%s', async (name) => {
    const file = fixtureFile(name, dir.path);
    const gdisk = runAll('sgdisk', ['-v', file]).output;
    const report = await checkDisk(file, { profile: 'structure' });
    const codes = new Set<string>(report.findings.map((f) => f.code));
    const problemLines = gdisk.split('\n').filter((l) => /^(Problem|Warning!|Caution: (The CRC|Partition \d+ doesn't))/.test(l) && !/One or more CRCs|Loaded backup partition table/.test(l));
    // One deliberate difference: gdisk cautions about a last partition that ends at the last usable
    // LBA, off a 1 MiB boundary, though sgdisk and sfdisk make exactly that by default; gptdoctor
    // does not call it misaligned (README: partition-misaligned).
    const inspected = await inspectDisk(file);
    const lastUsable = (inspected.table === 'backup' ? inspected.backup : inspected.primary).lastUsableLba;
    const endsAtLastUsable = (line: string): boolean => {
      const index = Number(/Partition (\d+) doesn't end on/.exec(line)?.[1]);
      return inspected.partitions.some((p) => p.index === index && p.lastLba === lastUsable);
    };
    for (const line of problemLines.filter((l) => !endsAtLastUsable(l))) {
      const rule = GDISK_PROBLEMS.find(([pattern]) => pattern.test(line) || pattern.test(gdisk.slice(gdisk.indexOf(line), gdisk.indexOf(line) + 300)));
      expect(rule, `gdisk said "${line}" and no mapping exists`).toBeDefined();
      expect(rule![1].some((c) => codes.has(c)), `gdisk: "${line}" — gptdoctor said ${[...codes].join(', ') || 'nothing'}`).toBe(true);
    }
    // On an MBR disk, gdisk's problems are those of its own in-memory conversion to GPT; gptdoctor
    // reports the disk as an MBR disk (a warning that names what a conversion needs), not as an error.
    if (/Identified \d+ problems/.test(gdisk) && !codes.has('mbr-disk')) expect(report.findings.some((f) => f.severity === 'error')).toBe(true);
    if (codes.has('mbr-disk') && /Secondary partition table overlaps the last partition/.test(gdisk)) {
      expect(report.findings.find((f) => f.code === 'mbr-disk')!.message).toMatch(/Converting it to GPT needs the last 33 sectors/);
    }
  });
});
