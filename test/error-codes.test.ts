import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK_ERROR_CODES } from '../src/disk/block-source.js';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('one error model', () => {
  it('the README documents exactly the codes a DiskError can carry, plus EINTERNAL', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('The codes are stable'), readme.indexOf('## Exit codes'));
    const documented = new Set(table.match(/`E[A-Z]+`/g)!.map((c) => c.slice(1, -1)));
    expect([...documented].sort()).toEqual([...DISK_ERROR_CODES, 'EINTERNAL'].sort());
  });

  it('every code thrown by name in src/ is in the union, and every judged code is thrown somewhere', () => {
    const thrown = new Set<string>();
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/new DiskError\(\s*'([A-Z]+)'/g)) thrown.add(m[1]!);
    }
    expect([...thrown].filter((c) => !(DISK_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    for (const judged of ['ENOTDISK', 'EFORMAT', 'ENOTSUP', 'ECHANGED', 'ENOADDON']) expect(thrown, judged).toContain(judged);
  });
});
