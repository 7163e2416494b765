import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { DiskError, type BlockSource } from '../src/disk/block-source.js';
import { FileSource } from '../src/disk/file-source.js';
import { openDisk } from '../src/disk/open.js';
import { VmdkSource } from '../src/disk/vmdk.js';
import { decodeSeSparseConstHeader, decodeSeSparseVolatileHeader, isSeSparseExtent, SeSparseExtent } from '../src/disk/vmdk-sesparse.js';
import { haveTools, prng, run, tempDir } from './helpers/tools.js';

/**
 * VMDK seSparse extents (ESXi 6.5+ snapshots). The fixtures come from scripts/make-sesparse.py;
 * the independent oracle is qemu, which reads seSparse read-only: what `qemu-img convert` makes
 * of a fixture must be the raw image it was made from, and gptdoctor must read the same bytes.
 */
const MiB = 1024 * 1024;
const SCRIPT = new URL('../scripts/make-sesparse.py', import.meta.url).pathname;
const noParent = async (): Promise<BlockSource> => {
  throw new Error('a bare seSparse extent has no parent to open');
};

async function readAll(source: BlockSource, limit = Infinity): Promise<Uint8Array> {
  const size = Math.min(source.size, limit);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 8 * MiB) out.set(await source.read(at, Math.min(8 * MiB, size - at)), at);
  return out;
}

/** Byte-exact comparison that reports the first differing offset rather than dumping 64 MiB. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.length);
  if (!a.equals(b)) {
    let i = 0;
    while (a[i] === b[i]) i++;
    expect.fail(`${what}: first difference at byte ${i}`);
  }
}

function dd(input: string, output: string, seekBytes: number, extra: string[] = []): void {
  execFileSync('dd', [`if=${input}`, `of=${output}`, 'bs=4096', `seek=${seekBytes / 4096}`, 'conv=notrunc', 'status=none', ...extra]);
}

describe.runIf(haveTools('qemu-img', 'sgdisk', 'python3'))('VMDK seSparse extents', () => {
  const dir = tempDir();
  const at = (name: string): string => join(dir.path, name);
  let raw: Uint8Array;

  function qemuRaw(descriptor: string): Uint8Array {
    const out = `${descriptor}.as-raw`;
    run('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', descriptor, out]);
    const bytes = new Uint8Array(readFileSync(out));
    rmSync(out);
    return bytes;
  }
  function pseudoRandomFile(name: string, length: number, seed: number): string {
    const next = prng(seed);
    const bytes = new Uint8Array(length);
    const words = new Uint32Array(bytes.buffer);
    for (let i = 0; i < words.length; i++) words[i] = (next() * 2 ** 32) >>> 0;
    writeFileSync(at(name), bytes);
    return at(name);
  }

  beforeAll(() => {
    // 64 MiB, three partitions; 18 MiB of data in partition 1 (over 4096 grains, so the split
    // grain-number bits are used), short records in partitions 2 and 3, the rest zeros.
    const disk = at('disk.raw');
    writeFileSync(disk, '');
    truncateSync(disk, 64 * MiB);
    run('sgdisk', ['-n', '1:2048:+24M', '-t', '1:8300', '-c', '1:data', '-n', '2:0:+20M', '-t', '2:0700', '-n', '3:0:0', '-t', '3:8200', disk]);
    dd(pseudoRandomFile('blob', 18 * MiB, 1), disk, 2 * MiB);
    writeFileSync(at('rec'), 'record in partition 2 '.repeat(300));
    dd(at('rec'), disk, 30 * MiB);
    dd(at('rec'), disk, 50 * MiB + 8192);
    raw = new Uint8Array(readFileSync(disk));
    run('python3', [SCRIPT, disk, at('d.vmdk')]);
    run('python3', [SCRIPT, '--reverse', disk, at('r.vmdk')]);
  });
  afterAll(() => dir.cleanup());

  it('the fixture is what qemu reads: qemu-img convert gives the raw image back, byte for byte', () => {
    for (const name of ['d.vmdk', 'r.vmdk']) {
      expect(run('qemu-img', ['info', '--output=json', at(name)])).toMatch(/"create-type": "seSparse"/);
      expectSameBytes(qemuRaw(at(name)), raw, `qemu ${name}`);
    }
    // The fixture really has explicit zero entries (types 1 and 2) and grains numbered past 4095.
    const extent = new Uint8Array(readFileSync(at('d-sesparse.vmdk')));
    expect(isSeSparseExtent(extent)).toBe(true);
    const header = decodeSeSparseConstHeader(extent.subarray(0, 512));
    const view = new DataView(extent.buffer, extent.byteOffset);
    const types = new Set<number>();
    for (let i = 0; i < (header.grainTablesSize * 512) / 8; i++) types.add(Number(view.getBigUint64(header.grainTablesOffset * 512 + i * 8, true) >> 60n));
    expect([...types].sort()).toEqual([0, 1, 2, 3]);
    expect(header.grainsSize / 8).toBeGreaterThan(4096);
    expect(decodeSeSparseVolatileHeader(extent.subarray(512, 1024)).replayJournal).toBe(0n);
  });

  it('reads every byte as the raw image, through the descriptor and through the bare extent file', async () => {
    for (const name of ['d', 'r']) {
      const viaDescriptor = await openDisk(at(`${name}.vmdk`));
      try {
        expect(viaDescriptor.format).toBe('vmdk');
        expect(viaDescriptor.containerInfo).toMatchObject({ createType: 'seSparse', extents: 1 });
        expectSameBytes(await readAll(viaDescriptor), raw, `${name}.vmdk`);
        // Reads that cross grain and grain-table boundaries, at odd offsets.
        for (const [offset, length] of [[16 * MiB - 700, 1400], [4095, 4098], [64 * MiB - 513, 2000]] as const) {
          expectSameBytes(await viaDescriptor.read(offset, length), raw.subarray(offset, offset + length), `${name} @${offset}`);
        }
      } finally {
        await viaDescriptor.close();
      }
      // openDisk knows the extent by its magic, never as a raw disk.
      const sniffed = await openDisk(at(`${name}-sesparse.vmdk`));
      try {
        expect(sniffed.format).toBe('vmdk');
        expect(sniffed.size).toBe(raw.length);
      } finally {
        await sniffed.close();
      }
      const bare = await VmdkSource.open(await FileSource.open(at(`${name}-sesparse.vmdk`)), noParent);
      try {
        expect(bare.size).toBe(raw.length);
        expectSameBytes(await readAll(bare), raw, `${name}-sesparse.vmdk`);
      } finally {
        await bare.close();
      }
    }
    const report = await inspectDisk(at('d.vmdk'));
    expect(report.partitions.map((p) => p.typeName)).toEqual(['Linux filesystem', 'Microsoft basic data', 'Linux swap']);
    expect(report.partitions[0]!.name).toBe('data');
    expect(report.backup.valid).toBe(true);
    expect((await checkDisk(at('d.vmdk'))).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('a seSparse snapshot over a monolithicSparse parent reads as qemu reads it: changed grains, zeroed grains, the rest from the parent', async () => {
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', at('disk.raw'), at('parent.vmdk')]);
    // The snapshot's disk: a renamed partition (both GPTs change), 1 MiB of the parent's data
    // zeroed (zero entries that must hide the parent), new data in partition 3.
    const child = at('child.raw');
    writeFileSync(child, raw);
    run('sgdisk', ['-c', '2:renamed', child]);
    execFileSync('dd', ['if=/dev/zero', `of=${child}`, 'bs=1M', 'seek=5', 'count=1', 'conv=notrunc', 'status=none']);
    dd(pseudoRandomFile('new', 300 * 1024, 2), child, 48 * MiB);
    const expected = new Uint8Array(readFileSync(child));
    run('python3', [SCRIPT, child, at('snap.vmdk'), '--parent', at('parent.vmdk'), '--parent-raw', at('disk.raw')]);
    expect(readFileSync(at('snap.vmdk'), 'utf8')).toMatch(/parentFileNameHint="parent\.vmdk"/);

    const qemu = qemuRaw(at('snap.vmdk'));
    expectSameBytes(qemu, expected, 'qemu snapshot');
    const source = await openDisk(at('snap.vmdk'));
    try {
      expect(source.containerInfo).toMatchObject({ createType: 'seSparse', parent: at('parent.vmdk') });
      const all = await readAll(source);
      expectSameBytes(all, qemu, 'gptdoctor snapshot');
      expect(all.subarray(5 * MiB, 6 * MiB).every((b) => b === 0)).toBe(true);
      expect(raw.subarray(5 * MiB, 6 * MiB).some((b) => b !== 0)).toBe(true); // the parent has data there
    } finally {
      await source.close();
    }
    expect((await inspectDisk(at('snap.vmdk'))).partitions.map((p) => p.name)).toEqual(['data', 'renamed', '']);
    // The snapshot's extent holds only what changed: the parent's data is not copied.
    expect(readFileSync(at('snap-sesparse.vmdk')).length).toBeLessThan(3 * MiB);
  });

  it('refuses what qemu refuses: wrong magic, version, geometry, flags, a dirty journal, non-zero padding', async () => {
    const pristine = new Uint8Array(readFileSync(at('d-sesparse.vmdk')).subarray(0, 1024));
    const cases: Array<[string, (b: DataView) => void, RegExp]> = [
      ['version', (b) => b.setBigUint64(8, 0x100000001n, true), /unsupported seSparse version/],
      ['grain size', (b) => b.setBigUint64(24, 16n, true), /grain size of 16 sectors/],
      ['grain table size', (b) => b.setBigUint64(32, 128n, true), /grain table size of 128 sectors/],
      ['flags', (b) => b.setBigUint64(40, 1n, true), /unsupported seSparse flags/],
      ['reserved', (b) => b.setBigUint64(56, 7n, true), /non-zero reserved/],
      ['const padding', (b) => b.setUint8(300, 1), /const header has non-zero padding/],
      ['capacity', (b) => b.setBigUint64(16, 1n << 40n, true), /capacity of \d+ sectors is invalid/],
      ['volatile magic', (b) => b.setUint8(512, 0), /bad seSparse volatile header magic/],
      ['dirty', (b) => b.setBigUint64(512 + 24, 1n, true), /journal must be replayed/],
      ['volatile padding', (b) => b.setUint8(1000, 9), /volatile header has non-zero padding/],
      ['volatile offset', (b) => b.setBigUint64(80, 1n << 40n, true), /volatile header lies outside the file/],
      ['grain dir', (b) => b.setBigUint64(136, 0n, true), /grain directory \(0 sectors\) is too small/],
    ];
    for (const [name, mutate, message] of cases) {
      const bytes = new Uint8Array(readFileSync(at('d-sesparse.vmdk')));
      bytes.set(pristine);
      mutate(new DataView(bytes.buffer));
      writeFileSync(at('bad-sesparse.vmdk'), bytes);
      const file = await FileSource.open(at('bad-sesparse.vmdk'));
      const err = await SeSparseExtent.open(file).then(() => undefined, (e: unknown) => e);
      await file.close();
      expect(err, name).toBeInstanceOf(DiskError);
      expect((err as DiskError).code, name).toBe('EFORMAT');
      expect((err as DiskError).message, name).toMatch(message);
    }
  });

  it('hostile mutations of headers, grain directory and grain table entries end in a read or EFORMAT, each quickly', async () => {
    // A small fixture: 40 MiB with data in all three grain tables, so the extent is ~200 KiB.
    const disk = at('fuzz.raw');
    writeFileSync(disk, '');
    truncateSync(disk, 40 * MiB);
    run('sgdisk', ['-n', '1:2048:+16M', '-n', '2:0:0', disk]);
    dd(pseudoRandomFile('fz', 64 * 1024, 3), disk, 20 * MiB);
    run('python3', [SCRIPT, '--reverse', disk, at('fuzz.vmdk')]);
    const extentPath = at('fuzz-sesparse.vmdk');
    const pristine = new Uint8Array(readFileSync(extentPath));
    const expected = new Uint8Array(readFileSync(disk));
    const header = decodeSeSparseConstHeader(pristine.subarray(0, 512));
    const metadataEnd = header.grainsOffset * 512;
    const random = prng(20240601);
    const int = (n: number): number => Math.floor(random() * n);
    const big = (): bigint => (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
    const values = (old: bigint): bigint[] => [0n, 1n, old + 1n, old - 1n, old * 2n, BigInt(int(2 ** 32)), big(), 1n << 63n, 0xffff_ffff_ffff_ffffn, old ^ (1n << BigInt(int(64)))];
    const pick = <T>(xs: T[]): T => xs[int(xs.length)]!;
    const u64 = (max: bigint): bigint => BigInt.asUintN(64, max);

    let succeeded = 0;
    let refused = 0;
    for (let round = 0; round < 200; round++) {
      const bytes = new Uint8Array(pristine);
      const view = new DataView(bytes.buffer);
      const set = (offset: number, value: bigint): void => view.setBigUint64(offset, u64(value), true);
      const get = (offset: number): bigint => view.getBigUint64(offset, true);
      let file = bytes;
      const kind = round % 6;
      let what: string;
      if (kind === 0) {
        const offset = 8 * int(26);
        set(offset, pick(values(get(offset))));
        what = `const header field ${offset / 8}`;
      } else if (kind === 1) {
        const offset = header.volatileHeaderOffset * 512 + 8 * int(4);
        set(offset, pick(values(get(offset))));
        what = `volatile header @${offset}`;
      } else if (kind === 2) {
        const offset = header.grainDirOffset * 512 + 8 * int(4);
        set(offset, pick([0n, (1n << 60n) | BigInt(int(8)), (1n << 60n) | BigInt(int(2 ** 32)), big(), 2n << 60n, get(offset) + 1n]));
        what = `grain directory entry @${offset}`;
      } else if (kind === 3 || kind === 4) {
        // Grain table entries; the allocated ones, where the disk has data, most of the time.
        const tableBytes = header.grainTablesSize * 512;
        let offset = header.grainTablesOffset * 512 + 8 * int(tableBytes / 8);
        for (let tries = 0; tries < 64 && get(offset) === 0n && random() < 0.9; tries++) offset = header.grainTablesOffset * 512 + 8 * int(tableBytes / 8);
        const type = BigInt(int(16)) << 60n;
        set(offset, pick([type, type | BigInt(int(2 ** 32)), (3n << 60n) | big() >> 4n, (3n << 60n) | BigInt(int(4096)) << 48n, get(offset) ^ (1n << BigInt(int(64))), big()]));
        what = `grain table entry @${offset}`;
      } else {
        const offset = int(metadataEnd);
        if (random() < 0.5) {
          bytes[offset] = int(256);
          what = `metadata byte @${offset}`;
        } else {
          file = bytes.subarray(0, int(pristine.length));
          what = `truncated to ${file.length}`;
        }
      }
      writeFileSync(extentPath, file);
      const started = Date.now();
      for (const open of [() => openDisk(at('fuzz.vmdk')), async () => VmdkSource.open(await FileSource.open(extentPath), noParent)]) {
        try {
          const source = await open();
          try {
            const head = await readAll(source, 48 * MiB);
            const tail = await source.read(source.size - MiB, MiB);
            expect(head.length + tail.length, what).toBe(Math.min(source.size, 48 * MiB) + Math.min(source.size, MiB));
            succeeded++;
          } finally {
            await source.close();
          }
        } catch (err) {
          if (!(err instanceof DiskError) || err.code !== 'EFORMAT') expect.fail(`round ${round} (${what}): ${(err as Error).stack}`);
          expect(err.message, what).toMatch(/fuzz(-sesparse)?\.vmdk: /);
          refused++;
        }
      }
      expect(Date.now() - started, `round ${round} (${what})`).toBeLessThan(2000);
    }
    expect(succeeded).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(40);
    writeFileSync(extentPath, pristine);
    const source = await openDisk(at('fuzz.vmdk'));
    expectSameBytes(await readAll(source), expected, 'the pristine fuzz fixture');
    await source.close();
  }, 120_000);
});
