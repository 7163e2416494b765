import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { overlapFindings } from '../src/check/overlaps.js';
import { decodeUsedEntries, encodeEntry } from '../src/gpt/entries.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/** A synthetic entry array: one 128-byte entry per extent, distinct GUIDs. */
function table(extents: ReadonlyArray<readonly [number, number]>) {
  const array = new Uint8Array(extents.length * 128);
  extents.forEach(([firstLba, lastLba], i) => {
    const guid = `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`.toUpperCase();
    array.set(encodeEntry({ typeGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uniqueGuid: guid, firstLba, lastLba, attributes: 0n, name: '' }, new Uint8Array(128)), i * 128);
  });
  return decodeUsedEntries(array, 128, extents.length);
}

describe('overlap rule', () => {
  it('one pair: one finding naming both partitions and the overlap', () => {
    expect(overlapFindings(table([[100, 199], [150, 299], [400, 499]]))).toEqual([
      { code: 'partition-overlap', severity: 'error', partition: 1, message: 'partitions 1 (LBA 100..199) and 2 (LBA 150..299) overlap by 50 sectors' },
    ]);
  });

  it('a chain of overlaps is one group with its pair count; separate groups are separate findings', () => {
    const findings = overlapFindings(table([[100, 199], [150, 249], [240, 299], [1000, 1099], [1050, 1149]]));
    expect(findings.map((f) => f.message)).toEqual([
      'partitions 1, 2, 3 overlap each other within LBA 100..299: 2 overlapping pairs, such as 1 and 2 by 50 sectors, 2 and 3 by 10 sectors',
      'partitions 4 (LBA 1000..1099) and 5 (LBA 1050..1149) overlap by 50 sectors',
    ]);
  });

  it('8,192 copies of one extent: one bounded finding counting 33,550,336 pairs, no stack overflow', () => {
    const findings = overlapFindings(table(Array.from({ length: 8192 }, () => [2048, 4095] as const)));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/^partitions 1, 2, 3, 4, 5, 6, 7, 8, … \(8192 partitions\) overlap each other within LBA 2048\.\.4095: 33550336 overlapping pairs, such as /);
    expect(findings[0]!.message.length).toBeLessThan(400);
  });

  it('many separate groups: the first 64 are listed and one finding counts the rest', () => {
    const extents = Array.from({ length: 200 }, (_, i) => [[i * 1000, i * 1000 + 99], [i * 1000 + 50, i * 1000 + 149]] as const).flat();
    const findings = overlapFindings(table(extents));
    expect(findings).toHaveLength(65);
    expect(findings[64]!.message).toBe('and 136 more groups of overlapping partitions (136 pairs)');
  });
});

describe.runIf(haveTools('python3'))('structure rules do not mask each other', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('a partition over the backup GPT that also runs past the end of the disk gets both findings', () => {
    const file = fixtureFile('linux', dir.path);
    run('python3', [new URL('../scripts/gpt-bytes.py', import.meta.url).pathname, 'entry', file, '5', 'last_lba', '300000']);
    const findings = (JSON.parse(gptdoctor(['check', '--json', '--profile', 'structure', file]).stdout) as { findings: Array<{ code: string; partition?: number }> }).findings;
    const forFive = findings.filter((f) => f.partition === 5).map((f) => f.code);
    expect(forFive).toEqual(expect.arrayContaining(['partition-in-table-area', 'partition-out-of-range']));
  });
});

describe('backup-not-at-end says "grew" only when the numbers show growth', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const message = (file: string): string =>
    (JSON.parse(gptdoctor(['check', '--json', '--profile', 'structure', file]).stdout) as { findings: Array<{ code: string; message: string }> }).findings.find((f) => f.code === 'backup-not-at-end')!.message;

  it('a grown image (the table and the protective MBR end at the old end): "the disk grew"', () => {
    expect(message(fixtureFile('grown', dir.path))).toMatch(/the disk grew by 65536 sectors/);
  });

  it('a protective MBR that already covers the whole disk: how far before the end the backup sits, no growth claimed', () => {
    const file = fixtureFile('grown', dir.path);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(bytes.length / 512 - 1, 446 + 12); // the 0xEE record's size: the whole disk
    writeFileSync(file, bytes);
    const text = message(file);
    expect(text).toBe('backup GPT header is at LBA 131071, 65536 sectors before the last LBA 196607: the space after it is unusable until the backup moves to the end');
  });
});

describe('uefi-rule disks get no Windows wording', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('an ESP typed Linux filesystem on a disk with no Windows evidence: the uefi rules, named types, no Windows update codes', () => {
    const file = fixtureFile('linux', dir.path);
    run('python3', [new URL('../scripts/gpt-bytes.py', import.meta.url).pathname, 'entry', file, '1', 'type', '0FC63DAF-8483-4772-8E79-3D69D8477DE4']);
    const report = JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { profileApplied: string; findings: Array<{ code: string; message: string }> };
    expect(report.profileApplied).toBe('uefi'); // the fixture's ESP holds \EFI\BOOT\BOOTX64.EFI and grubx64.efi
    expect(report.findings.find((f) => f.code === 'esp-type')?.message).toMatch(/typed Linux filesystem: firmware may not boot from it, and OS installers/);
    expect(report.findings.map((f) => f.message).join('\n')).not.toMatch(/0x8007|Windows|bcdboot/);
  });
});

describe('clipped images: the first MiBs of a larger disk, as forensic tools keep them', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const findings = (file: string) => (JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { findings: Array<{ code: string; partition?: number; message: string; fix?: string }> }).findings;

  it('the backup area comes from the header, partitions past the end are outside the image, and their contents are never judged', () => {
    const file = fixtureFile('windows', dir.path);
    run('truncate', ['-s', '4M', file]); // the first 4 MiB: the ESP starts inside, the rest lies beyond
    const all = findings(file);
    expect(all.filter((f) => f.code === 'image-truncated')).toHaveLength(1);
    expect(all.find((f) => f.code === 'image-truncated')!.message).toMatch(/Extend the image to 157286400 bytes/);
    expect(all.filter((f) => f.code === 'partition-in-table-area')).toEqual([]); // no "overlaps the backup GPT (LBA 8159..8191)"
    expect(all.filter((f) => f.code === 'partition-out-of-range').map((f) => [f.partition, /runs past the end of the image|lies wholly outside the image/.test(f.message)])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
    expect(all.map((f) => f.code).filter((c) => ['esp-not-fat', 'msr-formatted', 'msr-type', 'esp-low-space'].includes(c))).toEqual([]);
    expect(all.filter((f) => f.fix)).toEqual([]); // nothing can be fixed until the image is whole
  });

  it('an ESP wholly past the end of a clipped image is not told to be reformatted', () => {
    const file = fixtureFile('linux', dir.path);
    run('truncate', ['-s', '1M', file]);
    const all = findings(file);
    expect(all.map((f) => f.code)).not.toContain('esp-not-fat');
    expect(all.find((f) => f.partition === 1 && f.code === 'partition-out-of-range')!.message).toMatch(/lies wholly outside the image \(last LBA 2047\): the image is clipped or cut short, so its contents are not judged/);
  });
});
