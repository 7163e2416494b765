import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDisk } from '../src/disk/open.js';
import { writeRawCopy } from '../src/write/copy-out.js';
import { MAX_RANGES, RangeList } from '../src/disk/ranges.js';
import { vhdChecksum } from '../src/disk/vhd.js';
import type { VhdxSource } from '../src/disk/vhdx.js';
import { CHUNK_SIZE, chunkStarts } from '../src/recover/disk-pass.js';
import { haveTools, prng, run, tempDir } from './helpers/tools.js';

/**
 * BlockSource.dataRanges of the containers, against qemu: every extent `qemu-img map` calls data
 * (and every non-zero byte of the disk, found by converting it back to a sparse raw file) must lie
 * inside gptdoctor's ranges, and the ranges must not be much more than the blocks qemu allocated.
 * Then the hunt of `recover` over huge and hostile containers, which must read only those ranges.
 */
type Ranges = Array<[number, number]>;
const KiB = 1024;
const MiB = 1024 * KiB;
const TiB = 1024 ** 4;
const SIZE = 256 * MiB;
/** Where random data is written on the raw disk, besides the two GPTs. */
const WRITTEN: Ranges = [[10 * MiB, 11 * MiB], [70 * MiB, 73 * MiB], [150 * MiB + 12345 * 512, 150 * MiB + 12345 * 512 + 4096], [200 * MiB + 7 * 512, 200 * MiB + 7 * 512 + 512 * KiB]];

const total = (r: Ranges): number => r.reduce((sum, [a, b]) => sum + b - a, 0);
const covered = (ranges: Ranges, [a, b]: [number, number]): boolean => ranges.some(([x, y]) => x <= a && b <= y);
/** Bytes of the whole blocks of `blockSize` that the extents touch. */
function blockBytes(extents: Ranges, blockSize: number, size: number): number {
  const blocks = new Set<number>();
  for (const [a, b] of extents) for (let k = Math.floor(a / blockSize); k * blockSize < b; k++) blocks.add(k);
  return [...blocks].reduce((sum, k) => sum + Math.min(blockSize, size - k * blockSize), 0);
}

function qemuData(image: string, format?: string): Ranges {
  const out = execFileSync('qemu-img', ['map', '--output=json', ...(format ? ['-f', format] : []), image], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const map = JSON.parse(out) as Array<{ start: number; length: number; data: boolean }>;
  return map.filter((e) => e.data).map((e) => [e.start, e.start + e.length]);
}

/** A raw copy (`--output`), which now reads only the ranges: it must still hold every byte of the disk. */
async function rawCopy(image: string, out: string): Promise<Buffer> {
  const source = await openDisk(image);
  try {
    await writeRawCopy(source, out);
  } finally {
    await source.close();
  }
  return readFileSync(out);
}

async function rangesOf(image: string): Promise<{ ranges: Ranges; size: number; blockSize?: number }> {
  const source = await openDisk(image);
  try {
    const ranges = await source.dataRanges!();
    const blockSize = source.format === 'vhdx' ? (source as VhdxSource).geometry.blockSize : undefined;
    return { ranges, size: source.size, ...(blockSize ? { blockSize } : {}) };
  } finally {
    await source.close();
  }
}

/** Sorted, merged (a gap between neighbours), inside the disk. */
function expectWellFormed(ranges: Ranges, size: number): void {
  const bad = ranges.filter(([a, b], i) => !(a >= (i ? ranges[i - 1]![1] + 1 : 0) && b > a && b <= size));
  expect(bad).toEqual([]);
}

describe.runIf(haveTools('qemu-img', 'qemu-io', 'sgdisk'))('container data ranges, against qemu-img map', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const path = (name: string): string => join(dir.path, name);
  const raw = path('disk.raw');
  writeFileSync(raw, '');
  run('truncate', ['-s', String(SIZE), raw]);
  run('sgdisk', ['-o', '-n', '1:2048:+64M', '-t', '1:ef00', '-n', '2:0:+64M', '-n', '3:0:0', raw]);
  const random = prng(7);
  const fd = openSync(raw, 'r+');
  for (const [a, b] of WRITTEN) writeSync(fd, Uint8Array.from({ length: b - a }, () => 1 + Math.floor(random() * 255)), 0, b - a, a);
  closeSync(fd);
  /** The disk's non-zero bytes (4 KiB granules), as a sparse raw copy qemu-img makes of it shows them. */
  const contentOf = (image: string, format: string): Ranges => {
    const back = `${image}.raw`;
    run('qemu-img', ['convert', '-f', format, '-O', 'raw', image, back]);
    return qemuData(back, 'raw');
  };
  const convert = (name: string, format: string, options: string[]): string => {
    run('qemu-img', ['convert', '-f', 'raw', '-O', format, ...options, raw, path(name)]);
    return path(name);
  };

  /**
   * [name, qemu format, convert options, block or grain size (undefined: read from the image), kind].
   * A flat image's file holds every byte; a sparse one's holds its allocated blocks, so they add
   * up to no more than the file (compressed ones are bounded by their blocks alone).
   */
  const CASES: Array<[string, string, string[], number | undefined, 'flat' | 'sparse' | 'compressed']> = [
    ['dynamic.vhd', 'vpc', ['-o', 'subformat=dynamic,force_size=on'], 2 * MiB, 'sparse'],
    ['fixed.vhd', 'vpc', ['-o', 'subformat=fixed,force_size=on'], undefined, 'flat'],
    ['dynamic.vhdx', 'vhdx', [], undefined, 'sparse'],
    ['dynamic-1m.vhdx', 'vhdx', ['-o', 'block_size=1M'], undefined, 'sparse'],
    ['disk.qcow2', 'qcow2', [], 64 * KiB, 'sparse'],
    ['compressed.qcow2', 'qcow2', ['-c', '-o', 'cluster_size=4096'], 4 * KiB, 'compressed'],
    ['sparse.vmdk', 'vmdk', ['-o', 'subformat=monolithicSparse'], 64 * KiB, 'sparse'],
    ['stream.vmdk', 'vmdk', ['-o', 'subformat=streamOptimized'], 64 * KiB, 'compressed'],
    ['split.vmdk', 'vmdk', ['-o', 'subformat=twoGbMaxExtentSparse'], 64 * KiB, 'sparse'],
    ['flat.vmdk', 'vmdk', ['-o', 'subformat=monolithicFlat'], undefined, 'flat'],
  ];

  it.each(CASES)('%s: holds every extent qemu maps as data, and no more than the blocks qemu allocated', async (name, format, options, grain, kind) => {
    const image = convert(name, format, options);
    const { ranges, size, blockSize } = await rangesOf(image);
    expect(size).toBe(SIZE);
    expectWellFormed(ranges, size);
    // qemu's VHDX driver reports no allocation (it maps the whole disk as data), so for VHDX the
    // oracle is the disk's content alone; for the others, qemu's map too.
    const mapped = format === 'vhdx' ? [] : qemuData(image, format);
    const content = contentOf(image, format);
    expect(content.length).toBeGreaterThanOrEqual(3);
    for (const extent of [...mapped, ...content, ...WRITTEN]) expect(covered(ranges, extent), `${name}: [${extent}] in ${JSON.stringify(ranges)}`).toBe(true);
    expect((await rawCopy(image, `${image}.copy`)).equals(readFileSync(`${image}.raw`)), `${name}: raw copy`).toBe(true);
    if (kind === 'flat') {
      expect(ranges).toEqual([[0, SIZE]]);
      return;
    }
    const unit = grain ?? blockSize!;
    expect(total(ranges), name).toBeLessThanOrEqual(blockBytes(format === 'vhdx' ? content : mapped, unit, size));
    const stem = name.replace(/\.vmdk$/, '');
    const fileBytes = readdirSync(dir.path).filter((f) => f === name || (f.startsWith(`${stem}-s`) && f.endsWith('.vmdk'))).reduce((sum, f) => sum + statSync(path(f)).size, 0);
    if (kind === 'sparse') expect(total(ranges), name).toBeLessThanOrEqual(fileBytes + unit);
    expect(total(ranges)).toBeLessThan(SIZE / 4);
  });

  it('qcow2 over a backing file: the child\'s clusters and the backing file\'s ranges, not "reads as zero" clusters', async () => {
    const base = convert('base.qcow2', 'qcow2', []);
    const child = path('child.qcow2');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', child]);
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 120M 1M', '-c', 'write -P 0x33 230M 64k', '-c', 'write -P 0x11 10M 64k', child]);
    const { ranges, size } = await rangesOf(child);
    expectWellFormed(ranges, size);
    const mapped = qemuData(child);
    expect(mapped.some(([a]) => a === 120 * MiB)).toBe(true);
    for (const extent of [...mapped, ...contentOf(child, 'qcow2'), [120 * MiB, 121 * MiB], [230 * MiB, 230 * MiB + 64 * KiB]] as Ranges) {
      expect(covered(ranges, extent), `[${extent}] in ${JSON.stringify(ranges)}`).toBe(true);
    }
    expect(total(ranges)).toBeLessThanOrEqual(blockBytes([...mapped, ...qemuData(base)], 64 * KiB, size));
    expect((await rawCopy(child, path('child.copy'))).equals(readFileSync(`${child}.raw`))).toBe(true);

    // A cluster that reads as zero (v3 flag) over data is not data, in the child or alone.
    const zeroed = path('zeroed.qcow2');
    run('cp', [base, zeroed]);
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -z 10M 1M', zeroed]);
    expect(qemuData(zeroed).filter(([a, b]) => a < 11 * MiB && b > 10 * MiB)).toEqual([]);
    const alone = (await rangesOf(zeroed)).ranges;
    expect(alone.filter(([a, b]) => a < 11 * MiB && b > 10 * MiB)).toEqual([]);
    expect(covered(alone, [70 * MiB, 73 * MiB])).toBe(true);
  });

  it('a VMDK snapshot: its grains, and its parent\'s ranges', async () => {
    const base = convert('snap-base.vmdk', 'vmdk', ['-o', 'subformat=monolithicSparse']);
    const child = path('snap.vmdk');
    run('qemu-img', ['create', '-q', '-f', 'vmdk', '-b', base, '-F', 'vmdk', child]);
    run('qemu-io', ['-f', 'vmdk', '-c', 'write -P 0x5a 120M 1M', '-c', 'write -P 0x11 10M 64k', child]);
    const { ranges, size } = await rangesOf(child);
    expectWellFormed(ranges, size);
    const mapped = qemuData(child);
    for (const extent of [...mapped, ...contentOf(child, 'vmdk'), [120 * MiB, 121 * MiB], ...WRITTEN] as Ranges) {
      expect(covered(ranges, extent), `[${extent}] in ${JSON.stringify(ranges)}`).toBe(true);
    }
    expect(total(ranges)).toBeLessThanOrEqual(blockBytes([...mapped, ...qemuData(base)], 64 * KiB, size));
    expect((await rawCopy(child, path('snap.copy'))).equals(readFileSync(`${child}.raw`))).toBe(true);
  });

  it('VMDK seSparse, alone and as a snapshot: its allocated grains, not its zeroed or unmapped ones', async () => {
    const script = new URL('../scripts/make-sesparse.py', import.meta.url).pathname;
    const alone = path('se.vmdk');
    run('python3', [script, raw, alone]);
    const parent = convert('se-parent.vmdk', 'vmdk', ['-o', 'subformat=monolithicSparse']);
    const modified = path('se-modified.raw');
    run('cp', ['--sparse=always', raw, modified]);
    const fd = openSync(modified, 'r+');
    writeSync(fd, new Uint8Array(1 * MiB).fill(0x77), 0, MiB, 120 * MiB);
    writeSync(fd, new Uint8Array(64 * KiB), 0, 64 * KiB, 70 * MiB); // zeroed over the parent's data
    closeSync(fd);
    const snapshot = path('se-snap.vmdk');
    run('python3', [script, modified, snapshot, '--parent', parent, '--parent-raw', raw]);
    for (const [image, expected] of [[alone, raw], [snapshot, modified]] as const) {
      const { ranges, size } = await rangesOf(image);
      expectWellFormed(ranges, size);
      const content = contentOf(image, 'vmdk');
      for (const extent of content) expect(covered(ranges, extent), `${image}: [${extent}] in ${JSON.stringify(ranges)}`).toBe(true);
      expect((await rawCopy(image, `${image}.copy`)).equals(readFileSync(expected))).toBe(true);
      const own = blockBytes(content, 4 * KiB, size);
      expect(total(ranges)).toBeLessThanOrEqual(image === alone ? own : own + total((await rangesOf(parent)).ranges));
    }
    expect(covered((await rangesOf(snapshot)).ranges, [120 * MiB, 121 * MiB])).toBe(true);
  });

  it('VMDK zeroed grains are not data', async () => {
    const image = convert('zeroed.vmdk', 'vmdk', ['-o', 'subformat=monolithicSparse,zeroed_grain=on']);
    run('qemu-io', ['-f', 'vmdk', '-c', 'write -z 70M 2M', image]);
    const { ranges } = await rangesOf(image);
    expect(qemuData(image).filter(([a, b]) => a < 72 * MiB && b > 70 * MiB)).toEqual([]);
    expect(ranges.filter(([a, b]) => a < 72 * MiB && b > 70 * MiB)).toEqual([]);
    expect(covered(ranges, [72 * MiB, 73 * MiB])).toBe(true);
    expect(covered(ranges, [10 * MiB, 11 * MiB])).toBe(true);
  });

  it('differencing VHD and VHDX: the child\'s blocks with the parent\'s ranges', async () => {
    const modified = path('modified.raw');
    run('cp', ['--sparse=always', raw, modified]);
    const fd = openSync(modified, 'r+');
    writeSync(fd, new Uint8Array(1 * MiB).fill(0x77), 0, MiB, 120 * MiB);
    writeSync(fd, new Uint8Array(4 * KiB).fill(0x78), 0, 4 * KiB, 10 * MiB + 512 * KiB);
    closeSync(fd);
    const content = qemuData(modified, 'raw');
    for (const [kind, parentName, options] of [['vhd', 'parent.vhd', ['-o', 'subformat=dynamic,force_size=on']], ['vhdx', 'parent.vhdx', []]] as const) {
      const parent = convert(parentName, kind === 'vhd' ? 'vpc' : 'vhdx', [...options]);
      const child = path(`child.${kind}`);
      run('/usr/bin/python3', [new URL('../scripts/make-differencing.py', import.meta.url).pathname, kind, parent, raw, modified, child]);
      const { ranges, size } = await rangesOf(child);
      expectWellFormed(ranges, size);
      for (const extent of [...content, [120 * MiB, 121 * MiB]] as Ranges) expect(covered(ranges, extent), `${kind}: [${extent}] in ${JSON.stringify(ranges)}`).toBe(true);
      expect(total(ranges)).toBeLessThanOrEqual(total((await rangesOf(parent)).ranges) + statSync(child).size);
      expect((await rawCopy(child, path(`child-${kind}.copy`))).equals(readFileSync(modified))).toBe(true);
    }
  });

  it('a qcow2 whose L1 entries all name one L2 table: one cluster per entry, as qemu maps it, in bounded work', async () => {
    const image = path('shared-l2.qcow2');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', image, '4T']);
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x42 64k 64k', image]);
    const bytes = readFileSync(image);
    const l1Size = bytes.readUInt32BE(36);
    const l1Offset = Number(bytes.readBigUInt64BE(40));
    expect(l1Size).toBe(8192);
    for (let i = 1; i < l1Size; i++) bytes.copy(bytes, l1Offset + i * 8, l1Offset, l1Offset + 8);
    writeFileSync(image, bytes);
    const started = Date.now();
    const { ranges } = await rangesOf(image);
    expect(Date.now() - started).toBeLessThan(5000);
    const span = 512 * MiB; // one L2 table of 8192 entries of 64 KiB clusters
    expect(ranges).toEqual(Array.from({ length: l1Size }, (_, i) => [i * span + 64 * KiB, i * span + 128 * KiB]));
    expect(qemuData(image)).toEqual(ranges);
  });
});

describe('range lists and chunk starts stay bounded', () => {
  it('a list of 300,000 ranges is capped at MAX_RANGES, joining neighbours over the smallest gaps', () => {
    const list = new RangeList();
    const input: Ranges = [];
    for (let i = 0; i < 300_000; i++) input.push([i * 100, i * 100 + 10 + (i % 7)]);
    for (const [a, b] of input) list.add(a, b);
    const out = list.ranges();
    expect(out.length).toBe(MAX_RANGES);
    expectWellFormed(out, Infinity);
    let j = 0;
    const lost = input.filter((r) => {
      while (out[j]![1] < r[1]) j++;
      return !(out[j]![0] <= r[0] && r[1] <= out[j]![1]);
    });
    expect(lost).toEqual([]);
    expect(out[0]![0]).toBe(0);
    expect(out.at(-1)![1]).toBe(input.at(-1)![1]);
  });

  it('adjacent and overlapping ranges merge', () => {
    const list = new RangeList();
    for (const [a, b] of [[0, 10], [10, 20], [15, 18], [30, 40], [40, 40], [39, 50]] as Ranges) list.add(a, b);
    expect(list.ranges()).toEqual([[0, 20], [30, 50]]);
  });

  it('chunk starts over a 2^50-byte range are given lazily', () => {
    const starts = chunkStarts([[0, 2 ** 50]], 2 ** 50);
    expect([starts.next().value, starts.next().value, starts.next().value]).toEqual([0, CHUNK_SIZE, 2 * CHUNK_SIZE]);
  });

  it('chunk starts are those of the old Set-based walk, for unsorted and overlapping ranges', () => {
    const random = prng(11);
    for (let round = 0; round < 200; round++) {
      const size = Math.floor(random() * 200 * MiB);
      const ranges: Ranges = Array.from({ length: Math.floor(random() * 12) }, () => {
        const a = Math.floor(random() * 220 * MiB);
        return [a, a + Math.floor(random() * 30 * MiB)];
      });
      const old = new Set<number>();
      for (const [from, to] of ranges) for (let c = Math.floor(from / CHUNK_SIZE) * CHUNK_SIZE; c < Math.min(to, size); c += CHUNK_SIZE) old.add(c);
      expect([...chunkStarts(ranges, size)]).toEqual([...old].sort((a, b) => a - b));
    }
  });
});

/** A 512-byte VHD footer (VHD spec 1.0, big-endian), with its checksum. */
function vhdFooter(size: number, diskType: number, dataOffset: bigint): Buffer {
  const f = Buffer.alloc(512);
  f.write('conectix', 0, 'latin1');
  f.writeUInt32BE(2, 8); // features: reserved bit
  f.writeUInt32BE(0x0001_0000, 12);
  f.writeBigUInt64BE(dataOffset, 16);
  f.write('test', 28, 'latin1');
  f.write('Wi2k', 36, 'latin1');
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  f.writeUInt16BE(65535, 56);
  f.writeUInt8(16, 58);
  f.writeUInt8(255, 59);
  f.writeUInt32BE(diskType, 60);
  f.fill(0xab, 68, 84); // unique id
  f.writeUInt32BE(vhdChecksum(f, 64), 64);
  return f;
}

/** A dynamic VHD of `size` bytes whose BAT (`entries` of them) allocates no block. */
function emptyDynamicVhd(size: number, entries: number): Buffer {
  const header = Buffer.alloc(1024);
  header.write('cxsparse', 0, 'latin1');
  header.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, 8);
  header.writeBigUInt64BE(1536n, 16); // BAT right after the header
  header.writeUInt32BE(0x0001_0000, 24);
  header.writeUInt32BE(entries, 28);
  header.writeUInt32BE(2 * MiB, 32);
  header.writeUInt32BE(vhdChecksum(header, 36), 36);
  const bat = Buffer.alloc(Math.ceil((entries * 4) / 512) * 512, 0xff);
  const footer = vhdFooter(size, 3, 512n);
  return Buffer.concat([footer, header, bat, footer]);
}

const PEAK_MEMORY = new URL('./helpers/peak-memory.mjs', import.meta.url).pathname;

/** `gptdoctor recover --json` as a user runs it, timed, with its peak resident memory. */
function recover(image: string): { status: number; json: { candidates?: unknown[]; currentTable?: string; error?: { code: string; message: string } }; seconds: number; rssMiB: number; stderr: string } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [PEAK_MEMORY, 'recover', '--json', image], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  const rss = /MAXRSS (\d+)/.exec(r.stderr);
  return { status: r.status ?? -1, json: JSON.parse(r.stdout || '{}'), seconds: (Date.now() - started) / 1000, rssMiB: rss ? Number(rss[1]) / 1024 : Infinity, stderr: r.stderr };
}

describe('recover over huge and hostile containers reads only what they allocate', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const path = (name: string): string => join(dir.path, name);

  it('a fixed VHD footer claiming 2 TiB or 2^50 bytes on a 64 KiB file: refused as truncated, at once', () => {
    for (const size of [2 * TiB, 2 ** 50]) {
      const image = path(`claims-${size}.vhd`);
      writeFileSync(image, Buffer.concat([Buffer.alloc(64 * KiB, 0x5a), vhdFooter(size, 2, 0xffff_ffff_ffff_ffffn)]));
      const r = recover(image);
      expect(r.status, r.stderr).toBe(2); // unreadable, as recover documents; --json says why
      expect(r.json.error?.code).toBe('EFORMAT');
      expect(r.json.error?.message).toMatch(new RegExp(`fixed VHD claims ${size} bytes but holds ${64 * KiB} \\(truncated\\?\\)`));
      expect(r.seconds).toBeLessThan(10);
      expect(r.rssMiB).toBeLessThan(256);
    }
  });

  it.each([
    ['a full BAT of unallocated entries', 2 * TiB / (2 * MiB)],
    ['a BAT of no entries', 0],
  ])('a dynamic VHD claiming 2 TiB with %s: no candidates, at once', (_label, entries) => {
    const image = path(`empty-${entries}.vhd`);
    writeFileSync(image, emptyDynamicVhd(2 * TiB, entries));
    const r = recover(image);
    expect(r.status, r.stderr).toBe(1); // findings: nothing to restore
    expect(r.json).toMatchObject({ currentTable: 'none', candidates: [] });
    expect(r.seconds).toBeLessThan(10);
    expect(r.rssMiB).toBeLessThan(256);
  });

  it('a 100-byte VMDK descriptor of a 512 GiB ZERO extent: no candidates, at once', () => {
    const image = path('zero.vmdk');
    const text = '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\nRW 1073741824 ZERO\n';
    const descriptor = text + '#'.repeat(99 - text.length) + '\n';
    expect(descriptor.length).toBe(100);
    writeFileSync(image, descriptor);
    const r = recover(image);
    expect(r.status, r.stderr).toBe(1);
    expect(r.json).toMatchObject({ currentTable: 'none', candidates: [] });
    expect(r.seconds).toBeLessThan(10);
    expect(r.rssMiB).toBeLessThan(256);
  });

  describe.runIf(haveTools('qemu-img', 'sgdisk'))('1 TiB containers made by qemu-img from a sparse raw disk', () => {
    const raw = path('big.raw');
    writeFileSync(raw, '');
    run('truncate', ['-s', String(TiB), raw]);
    run('sgdisk', ['-o', '-n', '1:2048:+1G', '-n', '2:0:+100G', raw]);
    it.each([
      ['big.vhd', ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on']],
      ['big.vhdx', ['-O', 'vhdx']],
      ['big.qcow2', ['-O', 'qcow2']],
      ['big.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse']],
    ])('%s: both headers found in seconds', (name, options) => {
      run('qemu-img', ['convert', '-f', 'raw', ...options, raw, path(name)]);
      const r = recover(path(name));
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.currentTable).toBe('primary');
      const [first] = r.json.candidates as Array<{ headers: Array<{ offset: number }>; sameAsDisk: boolean }>;
      expect(first!.sameAsDisk).toBe(true);
      expect(first!.headers.map((h) => h.offset).sort((a, b) => a - b)).toEqual([512, TiB - 512]);
      expect(r.seconds).toBeLessThan(10);
      expect(r.rssMiB).toBeLessThan(256);
    });
  });
});

describe('raw image files', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('a file allocated in full is one range; a sparse one keeps its holes (SEEK_DATA through the addon)', async () => {
    const dense = join(dir.path, 'dense.img');
    writeFileSync(dense, Buffer.alloc(4 * MiB, 0x5a));
    const sparse = join(dir.path, 'sparse.img');
    writeFileSync(sparse, '');
    run('truncate', ['-s', String(64 * MiB), sparse]);
    const fd = openSync(sparse, 'r+');
    writeSync(fd, Buffer.alloc(MiB, 0x5a), 0, MiB, 32 * MiB);
    closeSync(fd);
    expect((await rangesOf(dense)).ranges).toEqual([[0, 4 * MiB]]);
    const { ranges } = await rangesOf(sparse);
    expect(ranges.some(([a, b]) => a <= 32 * MiB && b >= 33 * MiB)).toBe(true);
    expect(ranges.reduce((sum, [a, b]) => sum + b - a, 0)).toBeLessThan(16 * MiB);
  });
});
