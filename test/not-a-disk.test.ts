import { spawn } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { run, tempDir } from './helpers/tools.js';

/** Inputs that are no disk at all: one line, ENOTDISK, exit 2; never a no-gpt finding, never a hang. */
describe('not a disk', () => {
  const dir = tempDir();
  const fifo = join(dir.path, 'pipe');
  const socket = join(dir.path, 'sock');
  const empty = join(dir.path, 'empty.img');
  const tiny = join(dir.path, 'tiny.img');
  let server: Server;
  beforeAll(async () => {
    run('mkfifo', [fifo]);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    writeFileSync(empty, '');
    writeFileSync(tiny, Buffer.alloc(2048));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.cleanup();
  });

  const cases = (): Array<[string, RegExp]> => [
    ['/dev/null', /^gptdoctor: \/dev\/null is a character device, not a disk\n$/],
    ['/dev/zero', /^gptdoctor: \/dev\/zero is a character device, not a disk\n$/],
    [fifo, /is a FIFO \(named pipe\), not a disk\n$/],
    [socket, /is a socket, not a disk\n$/],
    [empty, /is empty, not a disk image\n$/],
    [tiny, /is 2048 bytes, smaller than the smallest GPT disk \(3072 bytes\): not a disk image\n$/],
  ];

  it('check and inspect refuse each in one line with ENOTDISK and exit 2', () => {
    for (const [path, message] of cases()) {
      for (const command of ['check', 'inspect']) {
        const r = gptdoctor([command, path]);
        expect(r.status, `${command} ${path}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stdout).toBe('');
        const json = gptdoctor([command, '--json', path]);
        expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'ENOTDISK' } });
      }
    }
  });

  it('scan lists named non-disks apart, and never hangs on a FIFO', async () => {
    // Run asynchronously with a deadline, so that a hang fails the test instead of stopping it.
    const paths = cases().map(([p]) => p);
    const child = spawn(process.execPath, [new URL('../bin/gptdoctor.js', import.meta.url).pathname, 'scan', ...paths], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => (child.kill(), resolve('hung')), 20_000);
      child.on('close', (code) => (clearTimeout(timer), resolve(code ?? -1)));
    });
    expect(status).toBe(2);
    expect(stdout.trim().split('\n')).toHaveLength(6);
    for (const line of stdout.trim().split('\n')) expect(line).toMatch(/: not a disk image: /);
    expect(stderr).toMatch(/not disk images\s+6/);
    expect(stderr).toMatch(/unreadable\s+0/);
  });

  it('a directory walk names what it skipped: a FIFO, a socket, a dangling link, a link loop', () => {
    const library = join(dir.path, 'library');
    run('mkdir', ['-p', library]);
    fixtureFile('linux', library);
    run('mkfifo', [join(library, 'pipe')]);
    symlinkSync(join(library, 'nowhere.img'), join(library, 'dangling.img'));
    symlinkSync(join(library, 'loop-b'), join(library, 'loop-a'));
    symlinkSync(join(library, 'loop-a'), join(library, 'loop-b'));
    symlinkSync(socket, join(library, 'sock'));
    const r = gptdoctor(['scan', library]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/linux\.img: /)]);
    expect(r.stderr).toMatch(/Skipped 5 directory entries that are not files:/);
    expect(r.stderr).toMatch(/dangling\.img: a dangling symbolic link/);
    expect(r.stderr).toMatch(/loop-a: a symbolic link loop/);
    expect(r.stderr).toMatch(/pipe: a FIFO \(named pipe\)/);
    expect(r.stderr).toMatch(/sock: a link to something that is not a file/);
  });
});

describe('Ctrl-C during a scan', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('ends it with the summary of what was scanned and an "interrupted" line, exit 130', async () => {
    const { linkSync } = await import('node:fs');
    const image = fixtureFile('windows', dir.path);
    const library = join(dir.path, 'many');
    run('mkdir', ['-p', library]);
    for (let i = 0; i < 5000; i++) linkSync(image, join(library, `copy-${String(i).padStart(4, '0')}.img`));
    const child = spawn(process.execPath, [new URL('../bin/gptdoctor.js', import.meta.url).pathname, 'scan', '--jobs', '1', '--profile', 'windows', library], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stdout.once('data', () => child.kill('SIGINT'));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(status).toBe(130);
    expect(stderr).toMatch(/Scanned \d+ images/);
    expect(stderr).toMatch(/interrupted: \d+ of 5000 images scanned/);
  }, 60_000);
});
