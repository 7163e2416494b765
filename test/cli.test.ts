import { gptdoctor } from './helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureFile, sha256File } from './helpers/images.js';
import { haveTools, run, runAll, tempDir } from './helpers/tools.js';


const noStack = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('command line', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('prints help with examples for every command', () => {
    for (const cmd of ['inspect', 'check', 'scan', 'set', 'repair', 'undo', 'recover', 'drives']) {
      const r = gptdoctor([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n  gptdoctor /);
      expect(r.stdout).toMatch(/Exit status: 0 /);
    }
    expect(gptdoctor(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('stops quietly when the reader of its output goes away (| head, | true)', () => {
    const img = fixtureFile('windows-esp-basic', dir.path);
    const bin = new URL('../bin/gptdoctor.js', import.meta.url).pathname;
    // `true` exits before gptdoctor writes, so every write meets a closed pipe (EPIPE).
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" inspect --json "${img}" | true; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('status 0\n');
  });

  it('explains bad input in one line and exits 2, never with a stack trace', () => {
    const cases: string[][] = [
      ['inspect', join(dir.path, 'missing.img')],
      ['inspect', dir.path],
      ['check', '--profile', 'nonsense', join(dir.path, 'missing.img')],
      ['inspect', '--sector-size', '1000', join(dir.path, 'missing.img')],
      ['frobnicate'],
      ['set', join(dir.path, 'missing.img'), '1', '--type', 'esp', '--yes'],
      ['undo', join(dir.path, 'missing.json'), '--yes'],
    ];
    for (const args of cases) {
      const r = gptdoctor(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^gptdoctor: /);
      noStack(r.stderr);
    }
    const json = gptdoctor(['inspect', '--json', join(dir.path, 'missing.img')]);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'ENOENT', message: expect.stringContaining('no such file') } });
  });

  it('says an all-zero disk has no GPT (exit 1) and reads it without writing', () => {
    const file = fixtureFile('zeros', dir.path);
    const before = sha256File(file);
    const r = gptdoctor(['check', '--json', file]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { code: string }) => f.code)).toEqual(['no-gpt']);
    expect(gptdoctor(['inspect', file]).status).toBe(1);
    expect(sha256File(file)).toBe(before);
  });

  it('read-only commands never change an image', () => {
    for (const name of ['windows-esp-basic', 'damaged-primary-header', 'grown', 'hybrid-mbr']) {
      const file = fixtureFile(name, dir.path);
      const before = sha256File(file);
      // Not even the access time moves (Linux O_NOATIME): relatime would update an atime this old.
      const [atime, mtime] = [new Date('2001-02-03T04:05:06Z'), new Date('2002-03-04T05:06:07Z')];
      utimesSync(file, atime, mtime);
      for (const args of [['inspect'], ['inspect', '--json'], ['inspect', '--hexdump'], ['check'], ['check', '--json', '--profile', 'windows'], ['scan', '--json'], ['recover'], ['recover', '--json']]) {
        expect(gptdoctor([...args, file]).status).toBeLessThan(2);
      }
      const after = statSync(file);
      expect([after.atime, after.mtime]).toEqual([atime, mtime]);
      expect(sha256File(file)).toBe(before);
    }
  });

  it('inspect --json gives the offset and SHA-256 of every structure; --hexdump shows the raw bytes', () => {
    const file = fixtureFile('damaged-primary-entries', dir.path);
    const bytes = readFileSync(file);
    const report = JSON.parse(gptdoctor(['inspect', '--json', file]).stdout) as { structures: Array<{ name: string; offset: number; length: number; sha256: string }> };
    expect(report.structures.map((s) => s.name)).toEqual(['protective MBR', 'primary header', 'primary entries', 'backup header', 'backup entries']);
    for (const s of report.structures) {
      expect(s.sha256, s.name).toBe(createHash('sha256').update(bytes.subarray(s.offset, s.offset + s.length)).digest('hex'));
    }
    const hex = gptdoctor(['inspect', '--hexdump', file]).stdout;
    expect(hex).toMatch(/0000000200 {2}45 46 49 20 50 41 52 54 .*\|EFI PART.*signature, revision, header size/);
    expect(hex).toMatch(/entry count, entry size, entries CRC32/);
  });

  it('refuses to write without a terminal and without --yes', () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    const before = sha256File(file);
    const r = gptdoctor(['set', file, '1', '--type', 'esp'], '');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(sha256File(file)).toBe(before);
    const dry = gptdoctor(['set', file, '1', '--type', 'esp', '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/partition 1: type: Microsoft basic data .* → EFI system partition/);
    expect(sha256File(file)).toBe(before);
  });

  it('scans a directory: one JSON line per image, a summary, honest exit status', () => {
    const scanDir = join(dir.path, 'scan');
    mkdirSync(scanDir);
    for (const name of ['linux', 'data', 'windows-esp-basic', 'zeros']) copyFileSync(fixtureFile(name, dir.path), join(scanDir, `${name}.img`));
    writeFileSync(join(scanDir, 'tiny.bin'), 'not a disk');
    const r = gptdoctor(['scan', '--json', scanDir]);
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { late?: string; source: { path: string }; ok?: boolean; findings?: Array<{ code: string }> });
    const lines = all.filter((l) => !l.late);
    expect(lines).toHaveLength(5);
    // The fixtures are made with fixed GUIDs: data and windows-esp-basic share their disk GUID.
    expect(all.filter((l) => l.late).map((l) => l.source.path.replace(/^.*\//, ''))).toEqual(['data.img', 'windows-esp-basic.img']);
    expect(r.stderr).toMatch(/Scanned 5 images/);
    expect(r.stderr).toMatch(/not disk images\s+1/); // tiny.bin: listed apart, not a failure of the scan
    const byName = new Map(lines.map((l) => [l.source.path.replace(/^.*\//, ''), l]));
    expect(byName.get('linux.img')!.ok).toBe(true);
    expect(byName.get('windows-esp-basic.img')!.findings!.map((f) => f.code)).toContain('esp-type');
    expect(r.status).toBe(1);
  });
});

describe.runIf(haveTools('sgdisk', 'sfdisk'))('the flagship fix end to end', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('check flags esp-type, its fix line makes check and sgdisk clean, undo restores the image', () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    const original = sha256File(file);
    const check = gptdoctor(['check', '--json', file]);
    expect(check.status).toBe(1);
    const finding = (JSON.parse(check.stdout).findings as Array<{ code: string; fix?: string }>).find((f) => f.code === 'esp-type');
    expect(finding?.fix).toBe(`gptdoctor set ${file} 1 --type esp`);
    const fixArgs = finding!.fix!.split(' ').slice(1);
    const set = gptdoctor([...fixArgs, '--yes']);
    expect(set.status, set.stderr).toBe(0);
    const undoFile = /Undo with: gptdoctor undo (.+)/.exec(set.stdout)![1]!.trim();
    expect(existsSync(undoFile)).toBe(true);

    const after = JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { ok: boolean; findings: Array<{ code: string; severity: string }> };
    expect(after.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(after.ok).toBe(true);
    const verify = runAll('sgdisk', ['-v', file]).output;
    expect(verify).toMatch(/No problems found/);
    const sf = JSON.parse(run('sfdisk', ['--json', file])) as { partitiontable: { partitions: Array<{ type: string }> } };
    expect(sf.partitiontable.partitions[0]!.type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');

    const undo = gptdoctor(['undo', undoFile, '--yes']);
    expect(undo.status, undo.stderr).toBe(0);
    expect(sha256File(file)).toBe(original);
    expect(readdirSync(dir.path).some((f) => f.includes('gptdoctor-undo'))).toBe(true);
  });
});
