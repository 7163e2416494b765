import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { crc32 } from '../src/gpt/crc32.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { findingsExitCode } from '../src/check/check.js';
import { partitionCount } from '../src/report/check-report.js';
import { FINDING_CODES, type CloudTarget } from '../src/check/finding.js';
import { fixtureBytes, manifest, memory } from './helpers/images.js';
import { fromGptdoctor, fromSfdisk, sfdiskIndex, type SfdiskTable } from './helpers/sfdisk.js';
import { haveTools, tempDir } from './helpers/tools.js';
import type { PartitionReport } from '../src/report/inspect-report.js';

/**
 * Every committed fixture (made by sgdisk/sfdisk/parted/mkfs, see scripts/make-test-images.sh):
 * inspect must agree with what sfdisk said, and check must report exactly the expected codes.
 */
const EXPECTED: Record<string, { codes: string[]; profile: 'windows' | 'uefi' | 'structure' }> = {
  windows: { profile: 'windows', codes: ['esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-basic': { profile: 'windows', codes: ['esp-type:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-msr-basic': { profile: 'windows', codes: ['msr-type:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-ntfs': { profile: 'windows', codes: ['esp-not-fat:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-full': { profile: 'windows', codes: ['esp-low-space:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-noblockio': { profile: 'windows', codes: ['esp-attributes:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-small': { profile: 'windows', codes: ['esp-too-small:error', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-attrs-zero': { profile: 'windows', codes: ['esp-too-small:warning', 'esp-attributes:info', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-recovery-no-required': { profile: 'windows', codes: ['esp-too-small:warning', 'recovery-attributes:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-no-esp': { profile: 'windows', codes: ['esp-missing:error', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-two-esps': { profile: 'windows', codes: ['esp-multiple:warning', 'esp-too-small:warning', 'esp-too-small:error', 'esp-attributes:info', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-no-msr': { profile: 'windows', codes: ['msr-missing:warning', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-msr-formatted': { profile: 'windows', codes: ['msr-formatted:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-msr-attrs-zero': { profile: 'windows', codes: ['msr-attributes:info', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-winre': { profile: 'windows', codes: ['esp-too-small:warning', 'os-low-space:info'] },
  'windows-winre-low': { profile: 'windows', codes: ['esp-too-small:warning', 'winre-low-space:warning', 'os-low-space:info'] },
  'windows-recovery-first': { profile: 'windows', codes: ['esp-too-small:warning', 'recovery-placement:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-recovery-blocks-growth': { profile: 'windows', codes: ['esp-too-small:warning', 'recovery-placement:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-fat32-few-clusters': { profile: 'windows', codes: ['esp-fat-clusters:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-esp-fat16': { profile: 'windows', codes: ['esp-fat16:warning', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-recovery-bitlocker': { profile: 'windows', codes: ['esp-too-small:warning', 'recovery-encrypted:info', 'os-low-space:info'] },
  'windows-bcd-stale': { profile: 'windows', codes: ['bcd-device-missing:error', 'bcd-device-missing:error', 'bcd-device-missing:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-bcd-missing': { profile: 'windows', codes: ['bcd-missing:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  'windows-bcd-unreadable': { profile: 'windows', codes: ['bcd-unreadable:error', 'esp-too-small:warning', 'winre-image-missing:info', 'os-low-space:info'] },
  // MBR disks that show Windows (scripts/make-mbr-images.sh): MBR2GPT readiness and the \Boot\BCD store.
  'windows-mbr': { profile: 'windows', codes: ['mbr-disk:warning', 'mbr2gpt-ready:info'] },
  'windows-mbr-single': { profile: 'windows', codes: ['mbr-disk:warning', 'mbr2gpt-ready:info'] },
  'windows-mbr-blocked': { profile: 'windows', codes: ['mbr-disk:warning', 'mbr2gpt-blocked:error'] },
  'windows-mbr-extended': { profile: 'windows', codes: ['mbr-disk:warning', 'mbr2gpt-blocked:error'] },
  'windows-mbr-bitlocker': { profile: 'windows', codes: ['mbr-disk:warning', 'mbr2gpt-blocked:error'] },
  'windows-mbr-bcd-stale': { profile: 'windows', codes: ['mbr-disk:warning', 'bcd-device-missing:error', 'bcd-device-missing:error', 'bcd-device-missing:error', 'mbr2gpt-blocked:error'] },
  'windows-mbr-bcd-missing': { profile: 'windows', codes: ['mbr-disk:warning', 'bcd-missing:error', 'mbr2gpt-blocked:error'] },
  'header-unusual': { profile: 'uefi', codes: ['header-unusual:warning'] },
  linux: { profile: 'uefi', codes: [] },
  data: { profile: 'structure', codes: [] },
  sector4k: { profile: 'uefi', codes: [] },
  entries256: { profile: 'structure', codes: [] },
  'many-partitions': { profile: 'structure', codes: ['partition-misaligned:warning', ...Array.from({ length: 99 }, () => 'partition-misaligned:info')] },
  'hybrid-mbr': { profile: 'uefi', codes: ['esp-not-fat:error', 'hybrid-mbr:warning'] },
  'mbr-only': { profile: 'structure', codes: ['mbr-disk:warning'] },
  zeros: { profile: 'structure', codes: ['no-gpt:error'] },
  'no-pmbr': { profile: 'uefi', codes: ['pmbr-missing:error'] },
  'damaged-primary-header': { profile: 'uefi', codes: ['primary-header-bad:error'] },
  'damaged-primary-entries': { profile: 'uefi', codes: ['primary-entries-bad:error'] },
  'zeroed-backup': { profile: 'uefi', codes: ['backup-header-bad:error'] },
  'damaged-backup-entries': { profile: 'uefi', codes: ['backup-entries-bad:error'] },
  'headers-disagree': { profile: 'uefi', codes: ['headers-disagree:error'] },
  grown: { profile: 'structure', codes: ['backup-not-at-end:error', 'pmbr-invalid:warning'] },
  truncated: { profile: 'structure', codes: ['image-truncated:error', 'pmbr-invalid:warning'] },
  overlap: { profile: 'structure', codes: ['partition-overlap:error', 'partition-misaligned:info'] },
  'guid-duplicate': { profile: 'structure', codes: ['partition-guid-duplicate:error'] },
  'out-of-range': { profile: 'structure', codes: ['partition-out-of-range:error', 'partition-misaligned:warning'] },
  'in-table-area': { profile: 'structure', codes: ['partition-in-table-area:error', 'partition-out-of-range:error', 'partition-misaligned:warning'] },
  'entry-size-256': { profile: 'structure', codes: ['entry-size-unusual:warning'] },
  // scripts/make-cloud-images.sh
  'dual-boot': { profile: 'windows', codes: ['esp-too-small:warning', 'os-low-space:info'] },
  'linux-luks': { profile: 'uefi', codes: [] },
};

/**
 * The cloud findings of `check --target` on committed fixtures, which are read here from memory (a
 * raw disk to the rules). The container cases (VHD, VHDX, sizes) are test/cloud-rules.test.ts's.
 */
const TARGETED: Array<{ name: string; target: CloudTarget; codes: string[] }> = [
  { name: 'windows', target: 'azure', codes: ['azure-format:error', 'azure-generation:info'] },
  { name: 'windows', target: 'aws', codes: ['aws-boot-mode:info'] },
  { name: 'linux', target: 'azure', codes: ['azure-format:error', 'azure-generation:info'] },
  { name: 'dual-boot', target: 'aws', codes: ['aws-dual-boot:error', 'aws-boot-mode:info'] },
  { name: 'linux-luks', target: 'aws', codes: ['aws-encrypted:error', 'aws-boot-mode:info'] },
  { name: 'windows-recovery-bitlocker', target: 'aws', codes: ['aws-encrypted:error', 'aws-boot-mode:info'] },
  { name: 'zeros', target: 'azure', codes: ['azure-format:error', 'azure-size-limit:error', 'azure-generation:info'] },
  { name: 'mbr-only', target: 'aws', codes: ['aws-boot-mode:warning'] },
];
const isCloudCode = (code: string): boolean => /^(azure|aws)-/.test(code);

const fixtures = Object.entries(manifest());

describe('committed fixtures', () => {
  it('every fixture has an expectation, and every expectation a fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtures.map(([name]) => name).sort());
  });

  it.each(fixtures)('%s: inspect agrees with sfdisk --json', async (name, facts) => {
    const bytes = fixtureBytes(name);
    const report = await inspectDisk(memory(bytes, false, `${name}.img`));
    expect(report.source.sectorSize).toBe(facts.sectorSize);
    const table = facts.sfdisk?.partitiontable;
    if ((table as { label?: string } | undefined)?.label === 'dos' && report.mbrDisk) {
      // An MBR disk: its partitions, logical ones through the EBR chain, as sfdisk numbers them.
      type DosPartition = { node: string; start: number; size: number; type: string; bootable?: boolean };
      const sfdisk = ((table as { partitions?: DosPartition[] }).partitions ?? []).map((p) => ({ number: sfdiskIndex(p.node), start: p.start, size: p.size, type: p.type, bootable: p.bootable === true }));
      const ours = report.mbrDisk!.partitions.map((p) => ({ number: p.number, start: p.firstLba, size: p.lastLba - p.firstLba + 1, type: Number(p.type).toString(16), bootable: p.active }));
      expect(ours).toEqual(sfdisk);
      expect(report.mbrDisk!.problems).toEqual([]);
      return;
    }
    if (!table || (table as { label?: string }).label !== 'gpt') {
      // sfdisk saw no GPT: an empty disk, or one whose GPT libfdisk cannot accept.
      expect(['zeros', 'no-pmbr', 'truncated']).toContain(name);
      return;
    }
    expect(report.table).not.toBe('none');
    const theirs = (table.partitions ?? []).map(fromSfdisk).sort((a, b) => Number(a.index) - Number(b.index));
    const ours = report.partitions.map(fromGptdoctor).sort((a, b) => Number(a.index) - Number(b.index));
    expect(ours).toEqual(theirs);
  });

  it.each(fixtures)('%s: check reports exactly the expected codes', async (name) => {
    const expected = EXPECTED[name]!;
    const report = await checkDisk(memory(fixtureBytes(name), false, `${name}.img`));
    expect(report.profileApplied).toBe(expected.profile);
    expect(report.findings.map((f) => `${f.code}:${f.severity}`).sort()).toEqual([...expected.codes].sort());
    expect(report.ok).toBe(!expected.codes.some((c) => c.endsWith(':error')));
    expect(findingsExitCode(report.findings)).toBe(report.ok ? 0 : 1);
    for (const f of report.findings) expect(f.message.length).toBeGreaterThan(20);
  });

  it.each(TARGETED)('$name with --target $target: exactly the expected cloud findings, and the rest unchanged', async ({ name, target, codes }) => {
    const plain = await checkDisk(memory(fixtureBytes(name), false, `${name}.img`));
    const report = await checkDisk(memory(fixtureBytes(name), false, `${name}.img`), { target });
    expect(report.target).toBe(target);
    expect(report.findings.filter((f) => isCloudCode(f.code)).map((f) => `${f.code}:${f.severity}`).sort()).toEqual([...codes].sort());
    expect(report.findings.filter((f) => !isCloudCode(f.code))).toEqual(plain.findings);
    expect(findingsExitCode(report.findings)).toBe(codes.some((c) => c.endsWith(':error')) || !plain.ok ? 1 : 0);
  });

  it('the flagship cases carry a fix line', async () => {
    const fixes: Record<string, string> = {
      'windows-esp-basic': 'gptdoctor set disk.img 1 --type esp',
      'windows-msr-basic': 'gptdoctor set disk.img 2 --type msr',
      'windows-esp-noblockio': 'gptdoctor set disk.img 1 --attributes -no-block-io',
      'windows-recovery-no-required': 'gptdoctor set disk.img 4 --attributes +required,+no-drive-letter',
    };
    for (const [name, fix] of Object.entries(fixes)) {
      const report = await checkDisk(memory(fixtureBytes(name), false, 'disk.img'));
      expect(report.findings.map((f) => f.fix)).toContain(fix);
    }
  });

  it('Windows rules never fire on Linux, data, 4Kn or 256-entry disks', async () => {
    for (const name of ['linux', 'data', 'sector4k', 'entries256']) {
      const report = await checkDisk(memory(fixtureBytes(name), false, `${name}.img`));
      expect(report.findings.filter((f) => /^(esp|msr|recovery|winre)-/.test(f.code))).toEqual([]);
    }
  });

  it('says when --sector-size contradicts the sector size the GPT was written for', async () => {
    const report = await checkDisk(memory(fixtureBytes('sector4k'), false, 'sector4k.img'), { sectorSize: 512 });
    expect(report.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['sector-size-mismatch:error']);
    expect(report.findings[0]!.message).toMatch(/the table is not damaged.*--sector-size 4096/);
  });

  it('covers every finding code with at least one fixture or case', () => {
    // Codes whose disks are built by the test that checks them, from sgdisk layouts, rather than stored:
    // sector-size-mismatch (the case below), array-small and array-in-usable-range (outside-images.test.ts);
    // disk-guid-collision and partition-guid-collision are across images, from copies made by test/scan-collisions.test.ts;
    // the container cloud findings come from qemu-img conversions in test/cloud-rules.test.ts (and synthetic facts for 16 TiB).
    const builtByTheirTests = ['sector-size-mismatch', 'array-small', 'array-in-usable-range', 'disk-guid-collision', 'partition-guid-collision', 'azure-file-size', 'azure-size-unaligned', 'aws-format', 'aws-size-limit'];
    const covered = new Set([...[...Object.values(EXPECTED), ...TARGETED].flatMap((e) => e.codes.map((c) => c.split(':')[0])), ...builtByTheirTests]);
    expect([...FINDING_CODES].filter((c) => !covered.has(c))).toEqual([]);
  });

  it('takes the backup array\'s CRC from the primary only when their bytes are the same', async () => {
    for (const name of ['linux', 'damaged-backup-entries', 'damaged-primary-entries']) {
      const g = await loadGpt(memory(fixtureBytes(name)));
      for (const copy of [g.primary, g.backup]) {
        const bytes = copy.header!.entryCount * copy.header!.entrySize;
        expect(copy.computedEntriesCrc32, `${name} ${copy.which}`).toBe(crc32(copy.array!.subarray(0, bytes)));
      }
      expect(g.backup.entriesValid, name).toBe(name !== 'damaged-backup-entries');
      expect(g.primary.entriesValid, name).toBe(name !== 'damaged-primary-entries');
    }
  });

  it('reads only what it needs: the 4096-sector image without any hint', async () => {
    const source = memory(fixtureBytes('sector4k'));
    const report = await inspectDisk(source);
    expect(report.source.sectorSize).toBe(4096);
    expect(report.source.sectorSizeSource).toBe('detected');
    expect(source.bytesRead).toBeLessThan(256 * 1024);
  });
});

describe.runIf(haveTools('python3', 'sfdisk'))('a table of 2,000 used entries', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const image = join(dir.path, 'entries-2000.img');

  it('is checked like sfdisk reads it, and its report lists every partition when first read', async () => {
    // Written by scripts/gpt-bytes.py fill (sfdisk takes minutes to make 2,000 partitions); sfdisk reads it back.
    writeFileSync(image, '');
    truncateSync(image, 2020 * 1024 * 1024);
    execFileSync('python3', [new URL('../scripts/gpt-bytes.py', import.meta.url).pathname, 'fill', image, '2000']);
    const theirs = (JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as SfdiskTable).partitiontable.partitions!;
    expect(theirs).toHaveLength(2000);

    const report = await checkDisk(image, { profile: 'structure' });
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(partitionCount(report)).toBe(2000);
    // Long lists are built on first read: to every reader still an ordinary, enumerable property.
    expect(Object.keys(report)).toEqual(['source', 'identity', 'profile', 'profileApplied', 'ok', 'findings', 'partitions']);
    const json = JSON.parse(JSON.stringify(report)) as { partitions: PartitionReport[] };
    expect(json.partitions.map(fromGptdoctor)).toEqual(theirs.map(fromSfdisk));
    expect(report.partitions).toBe(report.partitions);
    expect({ ...report }.partitions).toBe(report.partitions);
    expect(Object.getOwnPropertyDescriptor(report, 'partitions')).toMatchObject({ enumerable: true, writable: true });

    const untouched = await checkDisk(image, { profile: 'structure' });
    untouched.partitions = [];
    expect(untouched.partitions).toEqual([]);
    expect(JSON.parse(JSON.stringify(untouched)).partitions).toEqual([]);
  });
});
