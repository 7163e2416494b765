import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The package's own entry point (dist/, built by `npm ci`), exactly as a user imports it.
import { ATTR, applyPlan, checkDisk, inspect, loadGpt, openDisk, parseEntryEditText, planSet, TYPE_GUIDS, writableDisk } from 'gptdoctor';
import { fixtureFile, sha256File } from './helpers/images.js';
import { haveTools, tempDir } from './helpers/tools.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('library API', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('inspects, checks, plans and applies the flagship fix', async () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    expect((await inspect(file)).partitions[0]!.typeName).toBe('Microsoft basic data');
    expect((await checkDisk(file)).findings.map((f) => f.code)).toContain('esp-type');

    const reader = await openDisk(file);
    // The typed edit and the CLI's words for it are one and the same edit.
    const words = parseEntryEditText({ type: 'esp', attributes: '-no-block-io' });
    expect(words).toEqual({ ok: true, edit: { typeGuid: TYPE_GUIDS.ESP, attributes: { set: 0n, clear: ATTR.NO_BLOCK_IO } } });
    const plan = await planSet(await loadGpt(reader), 1, { typeGuid: TYPE_GUIDS.ESP, attributes: { set: 0n, clear: ATTR.NO_BLOCK_IO } }, 'library test');
    await reader.close();
    const before = sha256File(file);
    const writer = await openDisk(file, { writable: true });
    const result = await applyPlan(plan, writableDisk(writer), { journalPath: join(dir.path, 'undo.json'), reopen: () => openDisk(file) });
    await writer.close();
    expect(result.problems).toEqual([]);
    expect(sha256File(file)).not.toBe(before);
    expect((await checkDisk(file)).ok).toBe(true);
  });
});

describe.runIf(haveTools('qemu-img', 'sgdisk'))('README', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it("the Library section's example runs as written, on a VHDX and a raw image", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Library\n'));
    const example = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const vhdx = join(dir.path, 'disk.vhdx');
    execFileSync('qemu-img', ['convert', '-O', 'vhdx', raw, vhdx]);
    copyFileSync(raw, join(dir.path, 'disk.img'));
    // Imported from the built package, as a user would after `npm install gptdoctor`.
    writeFileSync(join(dir.path, 'example.mjs'), example.replace("from 'gptdoctor'", `from ${JSON.stringify(join(ROOT, 'dist/index.js'))}`));
    const result = spawnSync(process.execPath, ['example.mjs'], { cwd: dir.path, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^primary \[/);
    expect(result.stdout).toMatch(/error esp-type/);
    expect(result.status).toBe(1); // the check found the error before the fix
    expect(existsSync(join(dir.path, 'disk.img.undo.json'))).toBe(true);
    expect(execFileSync('sgdisk', ['-i', '1', join(dir.path, 'disk.img')], { encoding: 'utf8' })).toMatch(/C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
  });
});
