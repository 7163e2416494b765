import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReader } from '../src/fs/byte-reader.js';
import { openNtfs, type NtfsVolume } from '../src/fs/ntfs.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { editFixed, geometry, indexBlocksOf, inodes, makeVolume, recordAttributes, recordOffset, runsAt, type Geometry } from './helpers/ntfs-image.js';
import { canUseFuse, haveTools, tempDir } from './helpers/tools.js';

/**
 * Hand-made damage to a real volume (scripts/make-ntfs-volume.sh, 48 MiB, 4 KiB clusters): each
 * case changes one structure the way a torn write or a hostile image would, re-protects it with
 * its update-sequence fixups where that matters, and asserts the reason the reader gives. Damage
 * to the volume's own metadata ($MFT, root, $Bitmap, boot sector) is VolumeUnreadable; damage to
 * one file makes that file absent or unreadable and leaves a line in `problems`.
 */
const MiB = 1024 * 1024;

describe.runIf(haveTools('mkntfs', 'ntfs-3g', 'ntfsls', 'ntfsinfo', 'openssl', 'python3') && canUseFuse())('hostile NTFS structures end in VolumeUnreadable or a problem, with a reason', () => {
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
  const dir = tempDir('gptdoctor-ntfs-hostile-');
  beforeAll(() => {
    img = join(dir.path, 'main.img');
    makeVolume(img, 48);
    pristine = new Uint8Array(readFileSync(img));
    g = geometry(img);
  }, 60_000);
  afterAll(() => dir.cleanup());
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
    expect(await vol2.stat('\\Recovery\\WindowsRE\\Winre.wim')).toBeUndefined();
    expect(await vol2.readFile('\\Recovery\\WindowsRE\\Winre.wim', 100)).toBeUndefined();
    expect(vol2.problems).toEqual([expect.stringMatching(/Winre\.wim: MFT record \d+: \$DATA claims 1099511627776 bytes, more than the 3145728 its extents allocate/)]);
    expect((await vol2.readDir('\\Recovery\\WindowsRE'))![0]).toMatchObject({ name: 'Winre.wim', size: 3 * MiB }); // from the index entry
  });

  it('an attribute longer than its record, in the root directory, makes the volume unreadable', async () => {
    const b = copy();
    const first = recordAttributes(b, g, 5)[0]!;
    editFixed(b, recordOffset(g, 5), g.recordSize, (v) => v.writeUInt32LE(0x10000, first.at + 4));
    await rejects(b, /^MFT record 5: attribute 0x10 at \d+: length 65536 does not fit the record/);
  });

  it('an unreadable $UpCase falls back to simple upper-casing, recorded in problems on the first lookup that needs it', async () => {
    const b = copy();
    b[recordOffset(g, 10) + 510]! ^= 0xff;
    const vol = await openBytes(b);
    // Opening, the label and free space never read $UpCase: only a directory lookup needs it.
    expect(vol.problems).toEqual([]);
    expect(await vol.freeBytes()).toBeGreaterThan(0);
    expect(vol.problems).toEqual([]);
    // Names that are ASCII where they are compared fold alike with or without the table.
    expect(await vol.exists('\\WINDOWS\\system32\\CONFIG\\sam')).toBe(true);
    expect(vol.problems).toEqual([]);
    expect(await vol.exists('\\unicode\\ÜNÏCÖDÉ ñAME.TXT')).toBe(true);
    expect(vol.problems).toEqual([expect.stringMatching(/^\$UpCase is unreadable \(MFT record 10: update sequence number mismatch.*\); names are compared with simple upper-casing/)]);
  });

  it('a partition cut short: the volume opens with a problem, and files past the cut are unreadable', async () => {
    const vol = await openBytes(pristine.slice(0, 8 * MiB));
    expect(vol.problems).toEqual(['the volume claims 50331648 bytes but the partition holds 8388608']);
    expect(await vol.readFile('\\Frag\\holes.bin', 10 * MiB)).toBeUndefined();
    expect(vol.problems).toContainEqual(expect.stringMatching(/holes\.bin: .*the partition ends inside cluster \d+|holes\.bin: MFT record \d+ is cut short/));
    expect(await vol.freeBytes()).toBeGreaterThan(0); // $Bitmap lies in the first clusters
  });
});
