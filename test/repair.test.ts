import { gptdoctor } from './helpers/cli.js';
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureFile, manifest, sha256, sha256File } from './helpers/images.js';
import { canUseLoop, haveTools, runAll, tempDir, withLoop } from './helpers/tools.js';


/**
 * Hash of every partition's bytes, by the layout sfdisk recorded for the intact fixture, or by the
 * recipe's own [start, sectors] list where sfdisk cannot see the GPT.
 */
function partitionHashes(file: string, layoutFrom: string | Array<[number, number]>): string[] {
  const bytes = readFileSync(file);
  const ranges = typeof layoutFrom === 'string'
    ? (manifest()[layoutFrom]!.sfdisk!.partitiontable.partitions ?? []).map((p) => [p.start, p.size] as const)
    : layoutFrom;
  expect(ranges.length).toBeGreaterThan(0);
  return ranges.map(([start, size]) => sha256(bytes.subarray(start * 512, (start + size) * 512)));
}

/** Each repair case: the fixture, the intact fixture whose layout it shares, the codes check must report first. */
const CASES: Array<[string, string | Array<[number, number]>, string[]]> = [
  ['damaged-primary-header', 'linux', ['primary-header-bad']],
  ['damaged-primary-entries', 'linux', ['primary-entries-bad']],
  ['zeroed-backup', 'linux', ['backup-header-bad']],
  ['damaged-backup-entries', 'linux', ['backup-entries-bad']],
  ['grown', 'grown', ['backup-not-at-end']],
  ['no-pmbr', 'linux', ['pmbr-missing']],
  // sfdisk sees no GPT on the truncated image; its recipe puts one partition at 2048 for 38 MiB.
  ['truncated', [[2048, 77824]], ['image-truncated']],
  ['headers-disagree', 'linux', ['headers-disagree']],
];

describe.runIf(haveTools('sgdisk', 'sfdisk'))('repair on fixtures made by independent tools', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each(CASES)('%s: repair makes sgdisk, sfdisk and check clean; data untouched; undo restores', (name, layoutFrom, codes) => {
    const file = fixtureFile(name, dir.path);
    const original = sha256File(file);
    const hashes = partitionHashes(file, layoutFrom);
    const before = JSON.parse(gptdoctor(['check', '--json', '--profile', 'structure', file]).stdout) as { findings: Array<{ code: string }> };
    expect(before.findings.map((f) => f.code)).toEqual(expect.arrayContaining(codes));

    const repair = gptdoctor(['repair', '--yes', '--profile', 'structure', file]);
    expect(repair.status, repair.stderr + repair.stdout).toBe(0);
    const undoFile = /Undo with: gptdoctor undo (.+)/.exec(repair.stdout)![1]!.trim();

    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    expect(runAll('sfdisk', ['--verify', file]).output).toMatch(/No errors detected/);
    const after = JSON.parse(gptdoctor(['check', '--json', '--profile', 'structure', file]).stdout) as { findings: Array<{ code: string; severity: string }> };
    expect(after.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(partitionHashes(file, layoutFrom)).toEqual(hashes);

    expect(gptdoctor(['repair', '--yes', '--profile', 'structure', file]).stdout).toMatch(/nothing to change/);
    expect(gptdoctor(['undo', '--yes', undoFile]).status).toBe(0);
    expect(sha256File(file)).toBe(original);
  });

  it('refuses when both headers are damaged and points to recover', () => {
    const file = fixtureFile('zeros', dir.path);
    const r = gptdoctor(['repair', '--yes', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/recover/);
  });

  it('refuses an image cut through its last partition, writing nothing', () => {
    const file = fixtureFile('data', dir.path);
    truncateSync(file, statSync(file).size - 1024 * 1024);
    const original = sha256File(file);
    const r = gptdoctor(['repair', '--yes', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/partition 1 reaches past LBA \d+: the image is too short/);
    expect(sha256File(file)).toBe(original);
  });
});

describe.runIf(haveTools('sgdisk', 'sfdisk'))('set, checked by sfdisk and sgdisk', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('changes attributes and a non-ASCII name in both copies; unknown bits survive; undo restores', () => {
    const file = fixtureFile('linux', dir.path);
    const original = sha256File(file);
    const first = gptdoctor(['set', file, '4', '--attributes', '+required,+62,+50', '--name', 'システム', '--yes']);
    expect(first.status, first.stderr).toBe(0);
    const second = gptdoctor(['set', file, '4', '--attributes', '-62', '--yes', '--undo-file', join(dir.path, 'second.json')]);
    expect(second.status, second.stderr).toBe(0);
    const sf = JSON.parse(runAll('sfdisk', ['--json', file]).output) as { partitiontable: { partitions: Array<{ name?: string; attrs?: string; uuid: string }> } };
    expect(sf.partitiontable.partitions[3]).toMatchObject({ name: 'システム', attrs: 'RequiredPartition GUID:50', uuid: '22222222-0000-4000-8000-000000000004' });
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    expect(gptdoctor(['undo', '--yes', join(dir.path, 'second.json')]).status).toBe(0);
    const firstUndo = /Undo with: gptdoctor undo (.+)/.exec(first.stdout)![1]!.trim();
    expect(gptdoctor(['undo', '--yes', firstUndo]).status).toBe(0);
    expect(sha256File(file)).toBe(original);
  });

  it('rejects a name longer than 36 UTF-16 code units and an empty slot, writing nothing', () => {
    const file = fixtureFile('linux', dir.path);
    const original = sha256File(file);
    const long = gptdoctor(['set', file, '1', '--name', 'x'.repeat(37), '--yes']);
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/at most 36/);
    const empty = gptdoctor(['set', file, '9', '--type', 'linux', '--yes']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/slot 9 is empty/);
    expect(gptdoctor(['set', file, '1', '--type', 'nonsense', '--yes']).stderr).toMatch(/unknown partition type/);
    expect(sha256File(file)).toBe(original);
  });

  it.runIf(canUseLoop())('edits a 4096-byte-sector image, as sgdisk on a 4K loop device confirms', () => {
    const file = fixtureFile('sector4k', dir.path);
    expect(gptdoctor(['set', file, '2', '--type', 'linux-root-x86-64', '--yes']).status).toBe(0);
    withLoop(file, 4096, (device) => {
      expect(runAll('sgdisk', ['-v', device]).output).toMatch(/No problems found/);
      const sf = JSON.parse(runAll('sfdisk', ['--json', device]).output) as { partitiontable: { partitions: Array<{ type: string }> } };
      expect(sf.partitiontable.partitions[1]!.type).toBe('4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709');
    });
  });
});

describe.runIf(haveTools('sgdisk'))('repair with the Windows rules', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('applies the ESP and MSR type fixes check proposed, and nothing else', () => {
    for (const [name, partition, type] of [['windows-esp-basic', 1, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'], ['windows-msr-basic', 2, 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE']] as const) {
      const file = fixtureFile(name, dir.path);
      const before = JSON.parse(gptdoctor(['inspect', '--json', file]).stdout) as { partitions: Array<{ type: string; guid: string; attributes: string; name: string }> };
      const r = gptdoctor(['repair', '--yes', file]);
      expect(r.status, r.stderr).toBe(0);
      const after = JSON.parse(gptdoctor(['inspect', '--json', file]).stdout) as typeof before;
      expect(after.partitions[partition - 1]!.type).toBe(type);
      expect(after.partitions.map(({ guid, attributes, name }) => ({ guid, attributes, name }))).toEqual(before.partitions.map(({ guid, attributes, name }) => ({ guid, attributes, name })));
      expect(JSON.parse(gptdoctor(['check', '--json', file]).stdout).ok).toBe(true);
      expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    }
  });
});
