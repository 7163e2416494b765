import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTools, run } from './helpers/tools.js';

// What `npm run build` leaves for bin/gptdoctor.js (scripts/bundle.js): start-up depends on each
// of these, and none of them shows in a command's output when it is lost.
const ROOT = new URL('..', import.meta.url).pathname;
const BUNDLE = join(ROOT, 'dist/bundle/gptdoctor.cjs');
const BIN = join(ROOT, 'bin/gptdoctor.js');
const DEFERRED = ['crypto', 'fs/promises', 'readline', 'os', 'timers/promises'];
const scratch = mkdtempSync(join(tmpdir(), 'gptdoctor-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The built-in modules that loading the bundle and running `args` added, as Node names them. */
function builtinsLoadedBy(args: string[]): string[] {
  const list = join(scratch, 'loaded.txt');
  const preload = join(scratch, 'list-builtins.cjs');
  writeFileSync(
    preload,
    `const before = new Set(process.moduleLoadList);
     process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.filter((m) => !before.has(m)).join('\\n')));`,
  );
  const r = spawnSync(process.execPath, ['-r', preload, BIN, ...args], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return readFileSync(list, 'utf8')
    .split('\n')
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => m.slice('NativeModule '.length));
}

describe('the bundle', () => {
  it('is ASCII, so V8 holds its source one byte a character', () => {
    const source = readFileSync(BUNDLE, 'latin1');
    const at = source.search(/[^\x00-\x7f]/);
    expect(at === -1 ? 'ASCII' : `byte ${at}: ${JSON.stringify(source.slice(Math.max(0, at - 40), at + 10))}`).toBe('ASCII');
  });

  it('has a code cache that V8 accepts for it', () => {
    const source = readFileSync(BUNDLE, 'utf8');
    const file = readFileSync(`${BUNDLE}.cache`);
    const newline = file.indexOf(10);
    expect(file.subarray(0, newline).toString('latin1')).toBe(/^\/\/ gptdoctor build ([0-9a-f]+)/.exec(source)?.[1]);
    // Compiled the way bin/gptdoctor.js compiles it (wrapped as a CommonJS module), not run.
    const script = new Script(createRequire(BUNDLE)('node:module').wrap(source), { filename: BUNDLE, cachedData: file.subarray(newline + 1) });
    expect(script.cachedDataRejected).toBe(false);
  });

  it('loads none of the deferred built-ins for --version', () => {
    const loaded = builtinsLoadedBy(['--version']);
    expect(loaded).toContain('module'); // the list is real: bin/gptdoctor.js loads node:module
    expect(DEFERRED.filter((m) => loaded.includes(m))).toEqual([]);
  });

  it.runIf(haveTools('sfdisk'))('loads node:crypto for a recover only when its report hashes evidence, and the others not at all', () => {
    const image = join(scratch, 'gpt.img');
    writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
    run('sfdisk', ['--quiet', image], 'label: gpt\ntype=L\n');
    const loaded = builtinsLoadedBy(['recover', '--json', image]);
    expect(loaded).toContain('crypto'); // the report's SHA-256 of the header found
    expect(DEFERRED.filter((m) => m !== 'crypto' && loaded.includes(m))).toEqual([]);
  });
});
