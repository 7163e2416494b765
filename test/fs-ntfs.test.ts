import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReader, type ByteReader } from '../src/fs/byte-reader.js';
import { openNtfs, type NtfsDirEntry, type NtfsVolume } from '../src/fs/ntfs.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { editFixed, geometry, indexBlocksOf, inodes, makeVolume, recordAttributes, recordOffset, runlistFrom, runsAt, type Geometry } from './helpers/ntfs-image.js';
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
    const bytes = new Uint8Array(readFileSync(img));
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

  describe('hostile structures end in VolumeUnreadable or a problem, with a reason', () => {
    let pristine: Uint8Array;
    let g: Geometry;
    let img: string;
    const ino = (dir: string, name: string): number => inodes(img, dir).get(name)!;
    const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const attr = (b: Uint8Array, record: number, type: number) => recordAttributes(b, g, record).find((a) => a.type === type)!;
    /** Image offset of the first run's first cluster of a non-resident attribute (mapping pairs at `pairs`). */
    const firstLcn = (b: Uint8Array, pairs: number): number => {
      const h = b[pairs]!;
      return view(b).readUIntLE(pairs + 1 + (h & 15), h >> 4);
    };
    beforeAll(() => {
      img = image('main');
      pristine = new Uint8Array(readFileSync(img));
      g = geometry(img);
    });
    const copy = (): Uint8Array => pristine.slice();
    const openBytes = (b: Uint8Array): Promise<NtfsVolume> => openNtfs(memoryReader(b));
    const rejects = async (b: Uint8Array, reason: RegExp): Promise<void> => {
      const err = await openBytes(b).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(VolumeUnreadable);
      expect((err as VolumeUnreadable).reason).toMatch(reason);
    };

    it('a torn file record (update sequence mismatch) makes that file absent, with a problem', async () => {
      const b = copy();
      const tiny = ino('/', 'tiny.txt');
      b[recordOffset(g, tiny) + 1022]! ^= 0xff;
      const vol = await openBytes(b);
      expect(await vol.exists('\\tiny.txt')).toBe(false);
      expect(await vol.readFile('\\tiny.txt', 100)).toBeUndefined();
      expect(vol.problems).toContainEqual(expect.stringMatching(new RegExp(`tiny\\.txt: MFT record ${tiny}: update sequence number mismatch in 512-byte block 1`)));
      expect((await vol.readDir('\\'))!.find((e) => e.name === 'tiny.txt')).toMatchObject({ size: 12 }); // from the index entry
    });

    it('a torn $MFT record 0 is read from $MFTMirr; both torn is unreadable', async () => {
      const b = copy();
      b[recordOffset(g, 0) + 510]! ^= 0xff;
      const vol = await openBytes(b);
      expect(vol.problems).toContainEqual(expect.stringMatching(/\$MFT record 0 is damaged .*update sequence.*read from \$MFTMirr/));
      expect(await vol.exists('\\Recovery\\WindowsRE\\Winre.wim')).toBe(true);
      const mirror = view(b).readUIntLE(0x38, 6) * g.clusterSize;
      b[mirror + 510]! ^= 0xff;
      await rejects(b, /^\$MFT: MFT record 0: update sequence number mismatch.*\$MFTMirr copy too/);
    });

    it('a run past the end of the volume: the file is unreadable; in $MFT or $Bitmap, the volume', async () => {
      /** Replaces the runlist of record `n`'s $DATA (at `recordAt`) by one cluster at LCN 32767, past the 12,287 clusters. */
      const pastTheEnd = (b: Uint8Array, n: number, recordAt = recordOffset(g, n)): void => {
        const data = attr(pristine, n, 0x80);
        editFixed(b, recordAt, g.recordSize, (v) => v.set([0x21, 0x01, 0xff, 0x7f, 0x00], data.body - recordOffset(g, n) + recordAt));
      };
      const b = copy();
      const winre = ino('/Recovery/WindowsRE', 'Winre.wim');
      pastTheEnd(b, winre);
      const vol = await openBytes(b);
      expect((await vol.stat('\\Recovery\\WindowsRE\\Winre.wim'))?.size).toBe(3 * MiB);
      expect(await vol.readFile('\\Recovery\\WindowsRE\\Winre.wim', MiB)).toBeUndefined();
      expect(vol.problems).toEqual([expect.stringMatching(/Winre\.wim: MFT record \d+'s attribute 0x80: run 0 \(clusters 32767\.\.32767\) lies outside the volume's 12287 clusters/)]);

      const m = copy();
      pastTheEnd(m, 0);
      pastTheEnd(m, 0, view(m).readUIntLE(0x38, 6) * g.clusterSize); // and in the $MFTMirr copy
      await rejects(m, /^\$MFT: run 0 \(clusters 32767\.\.32767\) lies outside the volume's 12287 clusters/);

      const bm = copy();
      pastTheEnd(bm, 6);
      const err = await (await openBytes(bm)).freeBytes().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VolumeUnreadable);
      expect((err as VolumeUnreadable).reason).toMatch(/^MFT record 6's attribute 0x80: run 0 .* lies outside the volume/);
    });

    it('a run that points back into an earlier one (a cluster mapped twice) makes the file unreadable', async () => {
      const b = copy();
      const back = ino('/Frag', 'backwards.bin');
      const data = attr(pristine, back, 0x80);
      const runs = runsAt(pristine, data.body);
      const last = runs[runs.length - 1]!;
      const previous = runs[runs.length - 2]!;
      // The last run's relative offset, rewritten to land on the first run's cluster.
      editFixed(b, recordOffset(g, back), g.recordSize, (v) => v.writeIntLE(runs[0]!.lcn - previous.lcn, last.offsetAt, last.offsetWidth));
      const vol = await openBytes(b);
      expect(await vol.readFile('\\Frag\\backwards.bin', MiB)).toBeUndefined();
      expect(vol.problems).toEqual([expect.stringMatching(new RegExp(`backwards\\.bin: MFT record ${back}'s attribute 0x80: cluster ${runs[0]!.lcn} is mapped twice`))]);
    });

    it('an attribute list naming the base record for an extent it does not hold, or an extension of another file', async () => {
      const holes = ino('/Frag', 'holes.bin');
      const list = attr(pristine, holes, 0x20);
      const listAt = (b: Uint8Array): number => (list.nonResident ? firstLcn(b, list.body) * g.clusterSize : list.body);
      const entries = (b: Uint8Array): { at: number; type: number; record: number }[] => {
        const out = [];
        const v = view(b);
        for (let at = listAt(b), i = 0; i < 32; i++) {
          const length = v.readUInt16LE(at + 4);
          if (length === 0) break;
          out.push({ at, type: v.readUInt32LE(at), record: v.readUIntLE(at + 0x10, 6) });
          at += length;
        }
        return out;
      };
      const extent = entries(pristine).find((e) => e.type === 0x80 && e.record !== holes)!;
      const edit = (b: Uint8Array, fn: (v: Buffer) => void): void => (list.nonResident ? fn(view(b)) : editFixed(b, recordOffset(g, holes), g.recordSize, fn));

      const self = copy();
      edit(self, (v) => v.writeUIntLE(holes, extent.at + 0x10, 6));
      const vol = await openBytes(self);
      expect(await vol.stat('\\Frag\\holes.bin')).toBeUndefined();
      expect(vol.problems).toContainEqual(expect.stringMatching(new RegExp(`holes\\.bin: MFT record ${holes}'s attribute list names attribute 0x80 #\\d+ from VCN \\d+ in record ${holes}, which does not hold it`)));

      const twice = copy();
      const [a, b2] = entries(pristine).filter((e) => e.type === 0x80);
      edit(twice, (v) => v.copy(v, b2!.at, a!.at, a!.at + 0x20));
      const vol2 = await openBytes(twice);
      expect(await vol2.stat('\\Frag\\holes.bin')).toBeUndefined();
      expect(vol2.problems).toContainEqual(expect.stringMatching(/holes\.bin: .*attribute list names attribute 0x80 from VCN 0 in record \d+ twice/));

      const foreign = copy();
      editFixed(foreign, recordOffset(g, extent.record), g.recordSize, (v) => v.writeUIntLE(5, recordOffset(g, extent.record) + 0x20, 6));
      const vol3 = await openBytes(foreign);
      expect(await vol3.readFile('\\Frag\\holes.bin', 10)).toBeUndefined();
      expect(vol3.problems).toContainEqual(expect.stringMatching(new RegExp(`names record ${extent.record}, which belongs to record 5`)));
    });

    it('an index block whose sub-node points to itself is a cycle, for listing and lookup alike', async () => {
      const b = copy();
      const many = ino('/', 'Many');
      let changed = 0;
      for (const at of indexBlocksOf(b, g.clusterSize, 4096, many)) {
        editFixed(b, at, 4096, (v) => {
          const first = at + 0x18 + v.readUInt32LE(at + 0x18);
          if (!(v.readUInt16LE(first + 12) & 1)) return;
          v.writeBigUInt64LE(v.readBigUInt64LE(at + 0x10), first + v.readUInt16LE(first + 8) - 8); // its own VCN
          changed++;
        });
      }
      expect(changed).toBeGreaterThan(0);
      const vol = await openBytes(b);
      const list = await vol.readDir('\\Many').catch((e: unknown) => e);
      expect(list).toBeInstanceOf(VolumeUnreadable);
      expect((list as VolumeUnreadable).reason).toMatch(new RegExp(`directory record ${many}: index block at VCN \\d+ is reached twice \\(a sub-node cycle\\)`));
      await expect(vol.exists('\\Many\\!')).rejects.toThrow(/sub-node cycle/);
      expect(await vol.exists('\\Recovery')).toBe(true); // other directories still read
    });

    it('an index entry naming a record past the end of the $MFT: that entry is a problem, the rest lists', async () => {
      const b = copy();
      const many = ino('/', 'Many');
      const at = indexBlocksOf(b, g.clusterSize, 4096, many)[0]!;
      let name = '';
      editFixed(b, at, 4096, (v) => {
        const first = at + 0x18 + v.readUInt32LE(at + 0x18);
        name = v.toString('utf16le', first + 16 + 0x42, first + 16 + 0x42 + v[first + 16 + 0x40]! * 2);
        v.writeUIntLE(2 ** 40, first, 6);
      });
      const vol = await openBytes(b);
      expect(await vol.readDir('\\Many')).toHaveLength(300);
      expect(vol.problems).toContainEqual(expect.stringMatching(/MFT record 1099511627776 is beyond the \$MFT's \d+ records/));
      expect(await vol.stat(`\\Many\\${name}`)).toBeUndefined();
    });

    it('absurd record and cluster sizes in the boot sector', async () => {
      for (const [offset, value, reason] of [
        [0x40, 0x20, /MFT record size 131072 .* not a power of two from 512 to 64 KiB/],
        [0x40, 0xe0, /MFT record size 0 \(byte 0x40 = 224\)/],
        [0x40, 0x00, /MFT record size 0/],
        [0x44, 0x11, /index record size 69632/],
        [0x0d, 0x03, /sectors per cluster 3 is not a power of two/],
        [0x0d, 0xf0, /cluster size 33554432 is above 2 MiB/],
        [0x0c, 0x00, /bytes per sector 0 /],
        [0x0c, 0x03, /bytes per sector 768 is not a power of two/],
        [0x03, 0x41, /no "NTFS    " signature/],
      ] as const) {
        const b = copy();
        b[offset] = value;
        await rejects(b, reason);
      }
      const far = copy();
      view(far).writeUIntLE(2 ** 40, 0x30, 6);
      await rejects(far, /the MFT's cluster 1099511627776 is outside the volume's 12287 clusters/);
    });

    it('a $DATA claiming 2^60 bytes, or more than its runs map', async () => {
      const winre = ino('/Recovery/WindowsRE', 'Winre.wim');
      const data = attr(pristine, winre, 0x80);
      const huge = copy();
      editFixed(huge, recordOffset(g, winre), g.recordSize, (v) => v.writeBigUInt64LE(1n << 60n, data.at + 0x30));
      const vol = await openBytes(huge);
      expect(await vol.stat('\\Recovery\\WindowsRE\\Winre.wim')).toBeUndefined();
      expect(vol.problems).toContainEqual(expect.stringMatching(/Winre\.wim: MFT record \d+: attribute 0x80 at \d+: a size is negative or beyond 2\^53 bytes/));

      const big = copy();
      editFixed(big, recordOffset(g, winre), g.recordSize, (v) => {
        for (const o of [0x28, 0x30, 0x38]) v.writeBigUInt64LE(1n << 40n, data.at + o);
      });
      const vol2 = await openBytes(big);
      expect(await vol2.readFile('\\Recovery\\WindowsRE\\Winre.wim', 100)).toBeUndefined();
      expect(vol2.problems).toContainEqual(expect.stringMatching(/data size 1099511627776 exceeds the 3145728 bytes the runs map/));
    });

    it('an attribute longer than its record, in the root directory, makes the volume unreadable', async () => {
      const b = copy();
      const first = recordAttributes(b, g, 5)[0]!;
      editFixed(b, recordOffset(g, 5), g.recordSize, (v) => v.writeUInt32LE(0x10000, first.at + 4));
      await rejects(b, /^MFT record 5: attribute 0x10 at \d+: length 65536 does not fit the record/);
    });

    it('an unreadable $UpCase falls back to simple upper-casing, recorded in problems', async () => {
      const b = copy();
      b[recordOffset(g, 10) + 510]! ^= 0xff;
      const vol = await openBytes(b);
      expect(vol.problems).toEqual([expect.stringMatching(/^\$UpCase is unreadable \(MFT record 10: update sequence number mismatch.*\); names are compared with simple upper-casing/)]);
      expect(await vol.exists('\\WINDOWS\\system32\\CONFIG\\sam')).toBe(true);
    });
  });
});
