import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { FileSource } from '../src/disk/file-source.js';
import { isNetworkType, onNetworkFileSystem } from '../src/disk/network-fs.js';
import { fixtureFile } from './helpers/images.js';
import { gptdoctor } from './helpers/cli.js';
import { tempDir } from './helpers/tools.js';

/** The FUSE share needs /dev/fuse, fusermount and Debian's python3-fusepy (.ci/run installs them); in CI their absence is a failure. */
function haveShare(): boolean {
  const ok = existsSync('/dev/fuse') && spawnSync('/usr/bin/python3', ['-c', 'import fusepy'], { stdio: 'ignore' }).status === 0 && spawnSync('fusermount', ['-V'], { stdio: 'ignore' }).status === 0;
  if (!ok && process.env.CI) throw new Error('a FUSE share is needed: /dev/fuse, fusermount (fuse3) and python3-fusepy');
  if (!ok) console.warn('skipping: the network-share tests need /dev/fuse, fusermount (fuse3) and python3-fusepy');
  return ok;
}

/**
 * Image files on a network share read through the read cache that disks over HTTP use (its own
 * tests: read-cache.test.ts), on a real FUSE share whose every read waits: a structure check of
 * sgdisk's images, at 512 and 4096 bytes a sector, makes two reads, the default rules stay within
 * the budget of a disk over HTTP, and every report is the local copy's.
 */

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

  /** The report of a check of `name` on the share, the reads it took, and the local copy's report. */
  async function checkBoth(name: string, profile: 'structure' | 'auto'): Promise<{ shared: unknown; local: unknown; reads: number; systemReads: number }> {
    const before = reads();
    const source = await FileSource.open(join(mount, `${name}.img`));
    let shared;
    let systemReads;
    try {
      shared = await checkDisk(source, { profile });
      systemReads = source.systemReads;
    } finally {
      await source.close();
    }
    const local = await checkDisk(join(files, `${name}.img`), { profile });
    // Named alike: the path in the source and in fix lines is the only difference allowed.
    const unnamed = (r: typeof local): unknown => JSON.parse(JSON.stringify({ ...r, source: { ...r.source, path: '' } }).replaceAll(mount, files)) as unknown;
    expect(local.partitions.length).toBeGreaterThan(0);
    return { shared: unnamed(shared), local: unnamed(local), reads: reads() - before, systemReads };
  }

  for (const name of names) {
    it(`${name}: a structure check reads the file twice, the head and the tail, and reports what the local copy does`, async () => {
      const { shared, local, reads: served, systemReads } = await checkBoth(name, 'structure');
      expect(systemReads).toBe(2);
      expect(served).toBe(2);
      expect(shared).toEqual(local);
    });
  }

  it('the default rules on a Windows image (ESP FAT volume read too) stay within the budget of a disk over HTTP: 24 reads', async () => {
    const { shared, local, reads: served } = await checkBoth('windows-esp-basic', 'auto');
    expect(served).toBeLessThanOrEqual(24);
    expect(served).toBeGreaterThan(2);
    expect(shared).toEqual(local);
  });

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
