import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError, reportError } from '../src/cli/errors.js';
import { DiskError } from '../src/disk/block-source.js';
import { PlanError, applyEntryEdit } from '../src/plan/plan-set.js';

/** What reportError printed, and where. */
function report(err: unknown): { status: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => ((stdout += String(text)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((text) => ((stderr += String(text)), true));
  const status = reportError(err, true);
  vi.restoreAllMocks();
  return { status, stdout, stderr };
}

describe('one error model at the CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('expected errors print one line with their code', () => {
    expect(report(new DiskError('EROFS', 'x.qcow2 cannot be written in place'))).toEqual({ status: 2, stdout: '{"error":{"code":"EROFS","message":"x.qcow2 cannot be written in place"}}\n', stderr: 'gptdoctor: x.qcow2 cannot be written in place\n' });
    expect(report(new UsageError('bad')).stdout).toBe('{"error":{"code":"EINVAL","message":"bad"}}\n');
  });

  it('a RangeError from inside gptdoctor is an internal error, never a usage error', () => {
    const r = report(new RangeError('Offset is outside the bounds of the DataView'));
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'EINTERNAL', message: 'Offset is outside the bounds of the DataView' } });
    expect(r.stderr).toBe('gptdoctor: internal error (please report): Offset is outside the bounds of the DataView\n');
  });

  it('a value the codecs cannot encode is a refused plan, not a RangeError', () => {
    const array = new Uint8Array(128 * 4);
    array.set([0xaf, 0x3d, 0xc6, 0x0f], 0); // a non-zero type GUID: slot 1 is used
    const model = { entryCount: 4, entrySize: 128, array } as Parameters<typeof applyEntryEdit>[0];
    expect(() => applyEntryEdit(model, 1, { name: 'x'.repeat(37) })).toThrow(PlanError);
    expect(() => applyEntryEdit(model, 1, { typeGuid: 'esp' })).toThrow(/type GUID "esp" is not a GUID/);
    expect(() => applyEntryEdit(model, 1, { uniqueGuid: 'nope' })).toThrow(PlanError);
  });
});

describe('undo given what is not an undo file', () => {
  it('says so in one line, without raw Node texts and without reading a disk image whole', async () => {
    const { gptdoctor } = await import('./helpers/cli.js');
    const { tempDir, run } = await import('./helpers/tools.js');
    const dir = tempDir();
    try {
      const image = `${dir.path}/disk.img`;
      run('truncate', ['-s', '3G', image]); // sparse: reading it whole would need 3 GiB
      const cases: Array<[string, RegExp]> = [
        [`${dir.path}/missing.json`, /^gptdoctor: cannot read undo file .*missing\.json: no such file or device\n$/],
        [image, /^gptdoctor: .*disk\.img is not a gptdoctor undo file \(3221225472 bytes; an undo file is a small JSON file\)\n$/],
        [dir.path, /^gptdoctor: .* is a directory, not a gptdoctor undo file\n$/],
      ];
      for (const [file, message] of cases) {
        const r = gptdoctor(['undo', file, '--yes']);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/ENOENT:|File size|EISDIR:/);
      }
    } finally {
      dir.cleanup();
    }
  });
});

describe('paths that lead nowhere', () => {
  it('a link loop, a name too long and a file used as a directory each get a sentence, never Node\'s text', async () => {
    const { symlinkSync, writeFileSync } = await import('node:fs');
    const { gptdoctor } = await import('./helpers/cli.js');
    const { tempDir } = await import('./helpers/tools.js');
    const dir = tempDir();
    try {
      symlinkSync(`${dir.path}/b`, `${dir.path}/a`);
      symlinkSync(`${dir.path}/a`, `${dir.path}/b`);
      writeFileSync(`${dir.path}/file`, 'x');
      const cases: Array<[string[], RegExp]> = [
        [['check', `${dir.path}/a`], /cannot open .*\/a: its symbolic links loop/],
        [['inspect', `${dir.path}/${'n'.repeat(300)}`], /cannot open .*: the path, or one of its names, is too long/],
        [['check', `${dir.path}/file/disk.img`], /cannot open .*: a part of the path that should be a directory is a file/],
        [['undo', `${dir.path}/a`, '--yes'], /cannot read undo file .*\/a: its symbolic links loop/],
      ];
      for (const [args, message] of cases) {
        const r = gptdoctor(args);
        expect(r.status, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).not.toMatch(/ELOOP:|ENAMETOOLONG:|ENOTDIR:|, stat '|, open '/);
      }
    } finally {
      dir.cleanup();
    }
  });
});
