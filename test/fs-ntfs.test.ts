import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReader, type ByteReader } from '../src/fs/byte-reader.js';
import { openNtfs, type NtfsDirEntry } from '../src/fs/ntfs.js';
import { geometry, makeVolume, runlistFrom } from './helpers/ntfs-image.js';
import { canUseFuse, haveTools, tempDir } from './helpers/tools.js';

/**
 * NTFS volumes made by mkntfs and filled through an ntfs-3g FUSE mount (scripts/make-ntfs-volume.sh);
 * gptdoctor's reader must agree with ntfsinfo, fsntfsinfo, ntfsls, ntfscat and the mount itself.
 */
const MiB = 1024 * 1024;
const tool = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MiB });
const catBytes = (img: string, path: string): Buffer => execFileSync('ntfscat', [img, path], { env: { ...process.env, LC_ALL: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MiB });
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const FIXTURES = [
  { name: '512-byte sectors, 4 KiB clusters', file: 'main', size: 48, args: [], env: {} },
  { name: '4096-byte sectors', file: 's4k', size: 32, args: ['-s', '4096'], env: { HOLES: '200' } },
  { name: '512-byte clusters', file: 'c512', size: 64, args: ['-c', '512'], env: { HOLES: '400', HOLE_SIZE: '1024' } },
  { name: '64 KiB clusters', file: 'c64k', size: 64, args: ['-c', '65536'], env: { HOLES: '60', HOLE_SIZE: '65536' } },
  { name: '128 KiB clusters (negative sectors-per-cluster byte)', file: 'c128k', size: 64, args: ['-c', '131072'], env: { HOLES: '40', HOLE_SIZE: '131072' } },
] as const;

const DIRS = ['\\', '\\Windows\\System32\\config', '\\Recovery\\WindowsRE', '\\Many', '\\Holes', '\\Links', '\\Frag', '\\Unicode', '\\Program Files'];
const FILES = [
  '\\Recovery\\WindowsRE\\Winre.wim',
  '\\Windows\\System32\\config\\SYSTEM',
  '\\Windows\\System32\\config\\DEFAULT',
  '\\tiny.txt',
  '\\Frag\\backwards.bin',
  '\\Frag\\holes.bin',
  '\\Links\\target.bin',
  '\\Links\\hard link number 9 to the same file with a long name.bin',
  '\\sparse.bin',
  '\\Unicode\\Ünïcödé Ñame.txt',
  '\\Many\\Mixed Case File Number 123 with a Rather Long Name To Fill INDX Blocks.TxT',
];

/** A reader that counts the bytes asked of it. */
function counting(bytes: Uint8Array): ByteReader & { count: number } {
  const base = memoryReader(bytes);
  const reader = { size: base.size, count: 0, read: (offset: number, length: number) => ((reader.count += length), base.read(offset, length)) };
  return reader;
}

describe.runIf(haveTools('mkntfs', 'ntfs-3g', 'ntfsls', 'ntfscat', 'ntfsinfo', 'fsntfsinfo', 'openssl', 'python3') && canUseFuse())('NTFS reader against ntfs-3g, ntfsprogs and libfsntfs', () => {
  const dir = tempDir('gptdoctor-ntfs-');
  const mnt = join(dir.path, 'mnt');
  const image = (file: string): string => join(dir.path, `${file}.img`);
  let mounted = false;

  beforeAll(() => {
    mkdirSync(mnt);
    for (const f of FIXTURES) makeVolume(image(f.file), f.size, [...f.args], f.env);
  }, 120_000);

  afterAll(() => {
    if (mounted) execFileSync('umount', [mnt]);
    dir.cleanup();
  });

  /** Runs `fn` with the image mounted read-only by ntfs-3g (which leaves it unchanged). */
  function withMount<T>(img: string, fn: () => T): T {
    execFileSync('ntfs-3g', ['-o', 'ro', img, mnt]);
    mounted = true;
    try {
      return fn();
    } finally {
      execFileSync('umount', [mnt]);
      mounted = false;
    }
  }

  /** ntfsls's listing with system files, "/" after directories, without "./" and "../". */
  function listing(img: string, path: string): string[] {
    return tool('ntfsls', '-a', '-s', '-F', '-p', path.replace(/\\/g, '/'), img).split('\n').filter((l) => l && l !== './' && l !== '../').sort();
  }

  it.each(FIXTURES)('$name: geometry, label, serial, listings, sizes, contents, lookups and free space match the oracles', async (f) => {
    const img = image(f.file);
    const bytes = readFileSync(img); // a Buffer: memoryReader's slices are views, which the reader must not write into
    const before = sha(bytes);
    const vol = await openNtfs(memoryReader(bytes));
    expect(vol.problems).toEqual([]);

    const info = tool('ntfsinfo', '-m', img);
    const field = (label: string): string => new RegExp(`${label}:\\s+(.*)`).exec(info)![1]!.trim();
    expect(vol.label).toBe(field('Volume Name'));
    expect(vol.label).toBe('GPTDOCTOR');
    expect(vol.bytesPerSector).toBe(Number(field('Sector Size')));
    expect(vol.clusterSize).toBe(Number(field('Cluster Size')));
    expect(vol.totalClusters).toBe(Number(field('Volume Size in Clusters')));
    expect(vol.mftRecordSize).toBe(Number(field('MFT Record Size')));
    expect(vol.indexRecordSize).toBe(Number(field('Index Block Size')));
    const fsinfo = tool('fsntfsinfo', img);
    expect(vol.serialNumber.toLowerCase()).toBe(/Serial number\s*:\s*([0-9a-f]+)/.exec(fsinfo)![1]!.padStart(16, '0'));
    expect(vol.label).toBe(/Name\s*:\s*(.*)/.exec(fsinfo)![1]!.trim());

    const listed = new Map<string, NtfsDirEntry[]>();
    for (const path of DIRS) {
      const entries = (await vol.readDir(path))!;
      listed.set(path, entries);
      expect(entries.map((e) => `${e.name}${e.isDirectory ? '/' : ''}`).sort(), path).toEqual(listing(img, path));
    }
    expect(await vol.readDir('\\Many')).toHaveLength(300);
    expect(await vol.readDir('\\tiny.txt')).toBeUndefined();
    expect(await vol.readDir('\\no such directory')).toBeUndefined();

    for (const path of FILES) {
      const data = await vol.readFile(path, 64 * MiB);
      const oracle = catBytes(img, path.replace(/\\/g, '/'));
      expect(data?.length, path).toBe(oracle.length);
      expect(Buffer.from(data!).equals(oracle), path).toBe(true);
      expect((await vol.stat(path))?.size, path).toBe(oracle.length);
      const head = await vol.readFile(path, 1000);
      expect(Buffer.from(head!).equals(oracle.subarray(0, 1000)), path).toBe(true);
    }
    expect(await vol.readFile('\\Many', 100)).toBeUndefined();
    expect(await vol.readFile('\\tiny.txt', 0)).toEqual(new Uint8Array(0));

    // Case-insensitive through $UpCase, and a DOS alias resolves to the stored long name.
    expect(await vol.exists('\\windows\\SYSTEM32')).toBe(true);
    expect(await vol.exists('/RECOVERY/windowsre/WINRE.WIM')).toBe(true);
    expect(await vol.exists('\\unicode\\ÜNÏCÖDÉ ÑAME.TXT')).toBe(true);
    expect(await vol.exists('\\UNICODE\\STRAßE.TXT')).toBe(true);
    expect(await vol.exists('\\many\\MIXED CASE FILE NUMBER 299 WITH A RATHER LONG NAME TO FILL INDX BLOCKS.txt')).toBe(true);
    expect(await vol.exists('\\many\\Mixed Case File Number 301 with a Rather Long Name To Fill INDX Blocks.TxT')).toBe(false);
    expect(await vol.exists('\\Windows\\System32\\nothing')).toBe(false);
    expect(await vol.exists('\\tiny.txt\\below a file')).toBe(false);
    expect(await vol.stat('\\progra~1')).toMatchObject({ name: 'Program Files', isDirectory: true });
    expect(await vol.exists('\\PROGRA~1\\APP.EXE')).toBe(true);
    expect((await vol.stat('\\'))?.isDirectory).toBe(true);

    const free = await vol.freeBytes();
    withMount(img, () => {
      for (const [path, entries] of listed) {
        for (const e of entries.filter((x) => !x.isDirectory && !(path === '\\' && x.name.startsWith('$')))) {
          expect(e.size, `${path}\\${e.name}`).toBe(statSync(join(mnt, ...path.split('\\').filter(Boolean), e.name)).size);
        }
      }
      const [freeBlocks, blockSize] = tool('stat', '-f', '-c', '%f %S', mnt).trim().split(' ').map(Number);
      expect(free).toBe(freeBlocks! * blockSize!);
    });
    expect(sha(readFileSync(img))).toBe(before); // the oracles saw the bytes the reader read
    expect(sha(bytes)).toBe(before); // and the reader changed none of them (fixups are undone in copies)
  }, 30_000);

  it('the main fixture holds what the reader must handle: an attribute list with $DATA in several extension records, hard links in extension records, runs of both signs, sparse runs', () => {
    const img = image('main');
    const holes = tool('ntfsinfo', '-v', '-F', '/Frag/holes.bin', img);
    const base = Number(/Dumping Inode (\d+)/.exec(holes)![1]);
    expect(holes).toMatch(/Dumping attribute \$ATTRIBUTE_LIST \(0x20\)/);
    const dataRecords = new Set([...holes.matchAll(/Dumping attribute \$DATA \(0x80\) from mft record (\d+)/g)].map((m) => Number(m[1])));
    dataRecords.delete(base);
    expect(dataRecords.size).toBeGreaterThanOrEqual(3);
    const links = tool('ntfsinfo', '-F', '/Links/target.bin', img);
    expect(links).toMatch(/\$ATTRIBUTE_LIST/);
    expect(new Set([...links.matchAll(/\$FILE_NAME \(0x30\) from mft record (\d+)/g)].map((m) => m[1])).size).toBeGreaterThanOrEqual(2);
    const backwards = runlistFrom(tool('ntfsinfo', '-v', '-F', '/Frag/backwards.bin', img), '$DATA');
    expect(backwards.length).toBeGreaterThanOrEqual(8);
    expect(backwards.some(([, lcn], i) => i > 0 && lcn < backwards[i - 1]![1])).toBe(true); // negative LCN offsets
    expect(tool('ntfsinfo', '-v', '-F', '/sparse.bin', img)).toMatch(/<HOLE>/);
    expect(geometry(img).mftRuns.length).toBeGreaterThan(1); // the $MFT itself grew in a second run
  });

  it('stops counting free clusters once enough are found, reading only the start of $Bitmap; exact below that', async () => {
    const img = image('c512'); // 131,072 clusters of 512 bytes: a 16 KiB $Bitmap
    const bytes = new Uint8Array(readFileSync(img));
    const reader = counting(bytes);
    const vol = await openNtfs(reader);
    const exact = await vol.freeBytes();
    reader.count = 0;
    const bound = await vol.freeBytes(MiB);
    expect(bound).toBeGreaterThanOrEqual(MiB);
    expect(bound).toBeLessThanOrEqual(exact);
    expect(reader.count).toBeLessThan(16 * 1024 / 2);
    reader.count = 0;
    expect(await vol.freeBytes(exact + 1)).toBe(exact); // never reached: every bit counted
    expect(reader.count).toBeGreaterThanOrEqual(16 * 1024);
    expect(await vol.freeBytes(0)).toBe(0);
  });
});
