import { copyFileSync, existsSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gptdoctor } from './helpers/cli.js';
import { run, tempDir } from './helpers/tools.js';

/**
 * Where a collision's fix line writes comes from the same decision as check's own fix lines
 * (check/fix-target.ts), not from the image's format alone. Here a VHDX copy is the parent of a
 * differencing disk beside it: `set` refuses to write such a parent in place, so the printed fix
 * line must write a repaired copy. The parent and its copy are qemu-img's; the child is written
 * by scripts/make-differencing.py (no tool here creates differencing VHDX; test/differencing.test.ts
 * checks that writer against libvhdi).
 */
const SCRIPT = new URL('../scripts/make-differencing.py', import.meta.url).pathname;
const DISK = '11111111-2222-4333-8444-555555555555';

describe('collision fix lines for VHDX images that differencing disks depend on', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const lib = join(dir.path, 'library');
  const raw = join(dir.path, 'base.raw');
  const modified = join(dir.path, 'modified.raw');

  beforeAll(() => {
    mkdirSync(lib);
    writeFileSync(raw, '');
    truncateSync(raw, 8 * 1024 * 1024);
    run('sgdisk', ['-o', '-U', DISK, '-n', '1:2048:+1M', raw]);
    copyFileSync(raw, modified);
    run('sgdisk', ['-c', '1:changed-in-child', modified]);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, join(lib, 'a.vhdx')]);
    copyFileSync(join(lib, 'a.vhdx'), join(lib, 'b.vhdx'));
    run('/usr/bin/python3', [SCRIPT, 'vhdx', join(lib, 'b.vhdx'), raw, modified, join(dir.path, 'b-child.avhdx')]);
  });

  it('a copy that is the parent of a differencing disk gets a fix line that writes a repaired copy, and it works', () => {
    // The child sits beside its parent (where Hyper-V keeps checkpoints), so the scan sees it too;
    // scanned here are the parent and its copy, with the child in the directory.
    copyFileSync(join(dir.path, 'b-child.avhdx'), join(lib, 'b-child.avhdx'));
    const r = gptdoctor(['scan', '--json', join(lib, 'a.vhdx'), join(lib, 'b.vhdx')]);
    const late = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { late?: string; source: { path: string }; findings: Array<{ code: string; fix?: string }> }).filter((l) => l.late);
    const fixOf = (name: string) => late.find((l) => l.source.path === join(lib, name))?.findings.find((f) => f.code === 'disk-guid-collision')?.fix;
    expect(fixOf('a.vhdx')).toBeUndefined(); // scanned first: it keeps the GUID
    const copy = join(lib, 'b-fixed.img');
    expect(fixOf('b.vhdx')).toBe(`gptdoctor set ${join(lib, 'b.vhdx')} --new-guids --output ${copy}`);

    // In place, set refuses the parent (the fix line would have failed); the printed line works.
    const inPlace = gptdoctor(['set', join(lib, 'b.vhdx'), '--new-guids', '--yes']);
    expect(inPlace.status).toBe(2);
    expect(inPlace.stderr).toMatch(/differencing|parent/i);
    const printed = gptdoctor([...fixOf('b.vhdx')!.split(' ').slice(1), '--yes']);
    expect(printed.status, printed.stderr).toBe(0);
    expect(existsSync(copy)).toBe(true);
    const after = gptdoctor(['scan', '--json', join(lib, 'a.vhdx'), copy]);
    expect(after.stdout).not.toContain('identity-collisions');
  });

  it('without the child beside it, the same copy is fixed in place', () => {
    const alone = join(dir.path, 'alone');
    mkdirSync(alone);
    copyFileSync(join(lib, 'a.vhdx'), join(alone, 'a.vhdx'));
    copyFileSync(join(lib, 'a.vhdx'), join(alone, 'b.vhdx'));
    const r = gptdoctor(['scan', '--json', alone]);
    const fixes = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { late?: string; findings: Array<{ code: string; fix?: string }> }).filter((l) => l.late).flatMap((l) => l.findings.filter((f) => f.code === 'disk-guid-collision' && f.fix).map((f) => f.fix));
    expect(fixes).toEqual([`gptdoctor set ${join(alone, 'b.vhdx')} --new-guids`]);
  });
});
