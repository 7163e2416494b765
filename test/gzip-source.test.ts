import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource } from '../src/disk/file-source.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

describe.runIf(haveTools('gzip'))('gzip-compressed images and file handles', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('reading a .img.gz leaves its access time alone, as for raw images', () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    run('gzip', ['-1', raw]);
    const file = `${raw}.gz`;
    const [atime, mtime] = [new Date('2001-02-03T04:05:06Z'), new Date('2002-03-04T05:06:07Z')];
    utimesSync(file, atime, mtime);
    for (const args of [['inspect'], ['check', '--json'], ['scan', '--json']]) expect(gptdoctor([...args, file]).status).toBeLessThan(2);
    const after = statSync(file);
    expect([after.atime, after.mtime]).toEqual([atime, mtime]);
  });

  it('a second close never closes a descriptor another open was given since', async () => {
    const a = fixtureFile('linux', dir.path);
    const b = fixtureFile('data', dir.path);
    const first = await FileSource.open(a);
    await first.close();
    const second = await FileSource.open(b); // the OS hands out the descriptor number just freed
    await first.close();
    expect((await second.read(512, 8)).length).toBe(8);
    await second.close();
  });

  it('a gzip stream that breaks is one EFORMAT error, and the images opened after it read fine', async () => {
    const bad = join(dir.path, 'broken.img.gz');
    writeFileSync(bad, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(600, 0x5a)]));
    const good = fixtureFile('linux', dir.path);
    for (let i = 0; i < 3; i++) {
      await expect(openDisk(bad)).rejects.toMatchObject({ code: 'EFORMAT' });
      const source = await openDisk(good);
      expect((await source.read(512, 8)).toString()).toBe('69,70,73,32,80,65,82,84'); // "EFI PART"
      await source.close();
    }
    const scan = gptdoctor(['scan', '--json', bad, good]);
    const lines = scan.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: { path: string }; error?: { code: string } });
    expect(lines.find((l) => l.source.path === bad)?.error?.code).toBe('EFORMAT');
    expect(lines.find((l) => l.source.path === good)?.error).toBeUndefined();
  });
});
