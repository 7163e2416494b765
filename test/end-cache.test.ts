import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { EndCache, END_WINDOW } from '../src/disk/end-cache.js';
import { FileSource } from '../src/disk/file-source.js';
import { isNetworkType, onNetworkFileSystem } from '../src/disk/network-fs.js';
import { fixtureFile } from './helpers/images.js';
import { gptdoctor } from './helpers/cli.js';
import { prng, tempDir } from './helpers/tools.js';

/** The FUSE share needs /dev/fuse, fusermount and Debian's python3-fusepy (.ci/run installs it). */
function haveShare(): boolean {
  return existsSync('/dev/fuse') && spawnSync('/usr/bin/python3', ['-c', 'import fusepy'], { stdio: 'ignore' }).status === 0 && spawnSync('fusermount', ['-V'], { stdio: 'ignore' }).status === 0;
}

/**
 * The head and tail of an image on a network share, each fetched in one read: against a counting
 * fake, and on a real (FUSE) share, where a structure check of sgdisk's images, at 512 and 4096
 * bytes a sector, makes two reads and reports what the local copy does.
 */

function fakeFile(size: number): Uint8Array {
  const random = prng(3);
  return Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
}

/** A cache over `bytes` whose reads are recorded as [start, end) and answered on a later turn. */
function counted(bytes: Uint8Array): { cache: EndCache; reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  const cache = new EndCache(bytes.length, (target, offset) => {
    const n = Math.max(0, Math.min(target.length, bytes.length - offset));
    target.set(bytes.subarray(offset, offset + n));
    reads.push([offset, offset + n]);
    return new Promise<number>((resolve) => setTimeout(() => resolve(n), 1));
  });
  return { cache, reads };
}

describe('EndCache', () => {
  const size = 1024 * 1024 + 1000; // not a whole number of windows, as a real image need not be
  const file = fakeFile(size);
  const headReads = [[0, 512], [512, 512], [1024, 16384], [0, 8192], [4096, 4096], [8192, 16384]] as const;
  const tailReads = [[size - 512, 512], [size - 512 - 16384, 16384], [size - 4096, 4096], [size - END_WINDOW, END_WINDOW]] as const;

  it('asks for the head and the tail at once, one read each, at the first read of either, before either answers', async () => {
    const { cache, reads } = counted(file);
    const pending = [...tailReads, ...headReads].map(([offset, length]) => cache.read(offset, length));
    expect(reads).toEqual([[0, END_WINDOW], [size - END_WINDOW, size]]);
    const got = await Promise.all(pending);
    expect(got).toEqual([...tailReads, ...headReads].map(([offset, length]) => file.slice(offset, offset + length)));
    expect(reads.length).toBe(2);
  });

  it('leaves any other read to the file: the middle, and ranges that run out of a window', () => {
    const { cache, reads } = counted(file);
    expect(cache.read(END_WINDOW * 4, 512)).toBeUndefined();
    expect(cache.read(END_WINDOW - 100, 512)).toBeUndefined();
    expect(cache.read(size - END_WINDOW - 100, 512)).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('hands out copies: changing one changes nothing kept', async () => {
    const { cache } = counted(file);
    (await cache.read(0, 512))!.fill(0xff);
    expect(await cache.read(0, 512)).toEqual(file.slice(0, 512));
  });

  it('a file smaller than a window is read once, whole, and a read past its end gets what there is', async () => {
    const small = fakeFile(3000);
    const { cache, reads } = counted(small);
    expect(await cache.read(0, 512)).toEqual(small.slice(0, 512));
    expect(await cache.read(2900, 512)).toEqual(small.slice(2900));
    expect(cache.read(3000, 512)).toBeUndefined();
    expect(reads).toEqual([[0, 3000]]);
  });

  it('a file that shrank after it was opened gives what is there, never bytes it does not have', async () => {
    const shrunk = file.slice(0, 10_000);
    const cache = new EndCache(size, async (target, offset) => {
      const n = Math.max(0, Math.min(target.length, shrunk.length - offset));
      target.set(shrunk.subarray(offset, offset + n));
      return n;
    });
    expect(await cache.read(0, 512)).toEqual(shrunk.slice(0, 512));
    expect(await cache.read(9_000, 4096)).toBeUndefined(); // past what the window holds now: read it directly
    expect(await cache.read(size - 512, 512)).toBeUndefined();
  });

  it('a failed read fails the reads that wait for it', async () => {
    const cache = new EndCache(size, () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })));
    await expect(cache.read(0, 512)).rejects.toMatchObject({ code: 'EIO' });
    await expect(cache.read(size - 512, 512)).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('network file systems', () => {
  it('NFS, SMB/CIFS, FUSE, Ceph, 9P, AFS, GPFS and Lustre are; ext4, XFS, Btrfs, tmpfs and ZFS are not', () => {
    for (const type of [0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x65735546, 0x00c36400, 0x01021997, 0x5346414f, 0x6b414653, 0x47504653, 0x0bd00bd0]) expect(isNetworkType(type), type.toString(16)).toBe(true);
    for (const type of [0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x2fc12fc1, 0]) expect(isNetworkType(type), type.toString(16)).toBe(false);
  });

  it('this machine\'s temporary directory is local', () => {
    expect(onNetworkFileSystem(tmpdir())).toBe(false);
  });
});

describe.runIf(haveShare())('images on a network share (a FUSE share, scripts/slow-share.py)', () => {
  const dir = tempDir();
  const files = join(dir.path, 'files');
  const mount = join(dir.path, 'mnt');
  const served = join(dir.path, 'served');
  mkdirSync(files);
  mkdirSync(mount);
  const names = ['linux', 'sector4k', 'entries256', 'entry-size-256', 'windows-esp-basic'];
  for (const name of names) fixtureFile(name, files);
  let share: ChildProcess | undefined;
  const reads = (): number => Number(readFileSync(served, 'utf8'));
  beforeAll(async () => {
    share = spawn('/usr/bin/python3', [fileURLToPath(new URL('../scripts/slow-share.py', import.meta.url)), files, mount, '1', served], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(join(mount, 'linux.img')); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(onNetworkFileSystem(join(mount, 'linux.img'))).toBe(true);
  });
  afterAll(async () => {
    spawnSync('fusermount', ['-u', mount]);
    if (share && share.exitCode === null) await new Promise((resolve) => share!.on('exit', resolve));
    dir.cleanup();
  });

  for (const name of names) {
    it(`${name}: a structure check reads the file twice, the head and the tail, and reports what the local copy does`, async () => {
      const before = reads();
      const source = await FileSource.open(join(mount, `${name}.img`));
      let shared;
      try {
        shared = await checkDisk(source, { profile: 'structure' });
        expect(source.systemReads).toBe(2);
      } finally {
        await source.close();
      }
      expect(reads() - before).toBe(2);
      const local = await checkDisk(join(files, `${name}.img`), { profile: 'structure' });
      expect({ ...shared, source: { ...shared.source, path: '' } }).toEqual({ ...local, source: { ...local.source, path: '' } });
      expect(shared.partitions.length).toBeGreaterThan(0);
    });
  }

  it('a scan of the share: two reads an image, and the reports of a scan of the local copies', () => {
    const before = reads();
    const remote = gptdoctor(['scan', '--json', '--profile', 'structure', mount]);
    expect(reads() - before).toBe(2 * names.length);
    const local = gptdoctor(['scan', '--json', '--profile', 'structure', files]);
    // Each image's report, named by its file: the late lines of identity collisions name which
    // image a directory listing gave first, which the share and the local directory need not agree on.
    type Line = { late?: string; source: { path: string }; findings?: Array<{ code: string }> };
    const strip = (out: string): unknown[] =>
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Line)
        .filter((r) => !r.late)
        .map((r) => ({ ...r, source: { ...r.source, path: r.source.path.split('/').pop() }, findings: r.findings?.filter((f) => !f.code.endsWith('-collision')) }))
        .sort((x, y) => x.source.path!.localeCompare(y.source.path!));
    expect(remote.status).toBe(local.status);
    expect(strip(local.stdout)).toHaveLength(names.length);
    expect(strip(remote.stdout)).toEqual(strip(local.stdout));
  });
});

describe('a local image file', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('keeps nothing: each read goes to the page cache, which is cheaper than copying windows', async () => {
    const source = await FileSource.open(fixtureFile('linux', dir.path));
    try {
      await checkDisk(source, { profile: 'structure' });
      expect(source.systemReads).toBeGreaterThan(2);
    } finally {
      await source.close();
    }
  });
});
