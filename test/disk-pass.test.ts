// The recover hunt's whole-disk pass (src/recover/disk-pass.ts) searches a local file in the
// native addon, 16 MiB stretches four at a time, and any other disk by reading chunks three at a
// time. These tests put signatures where either can go wrong (across a chunk's or a piece's end,
// in a disk's last bytes, off the sector step, after a hole) and check that each is reported
// once, and that every 1 MiB boundary is probed once: on a file searched by the addon, on the
// same file read in chunks (in place, on libuv's threads) and on a disk that hands out copies.
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockSource } from '../src/disk/block-source.js';
import { FileSource } from '../src/disk/file-source.js';
import { MemorySource } from '../src/disk/memory-source.js';
import { CHUNK_SIZE, HIT_BYTES, PROBE_BYTES, STRETCH_SIZE, passOverDisk, stretchBounds } from '../src/recover/disk-pass.js';

const MIB = 1024 * 1024;
const SIG = Buffer.from('EFI PART', 'latin1');
const dir = mkdtempSync(join(tmpdir(), 'disk-pass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A disk of `size` bytes of filler with the signature at each of `at`. */
function diskWith(size: number, at: number[]): Uint8Array {
  const disk = Buffer.alloc(size, 'x');
  for (const a of at) SIG.copy(disk, a);
  return disk;
}

async function pass(source: BlockSource, step = 512): Promise<{ hits: number[]; probes: number[]; sectors: string[]; progress: number[]; hitBytes: Map<number, Buffer> }> {
  const hitBytes = new Map<number, Buffer>();
  const hits: number[] = [];
  const probes: number[] = [];
  const sectors: string[] = [];
  const progress: number[] = [];
  await passOverDisk(
    source,
    SIG,
    step,
    {
      onHit: (position, bytes) => {
        hits.push(position);
        sectors.push(Buffer.from(bytes.subarray(0, 8)).toString('latin1'));
        expect(bytes.length).toBeGreaterThanOrEqual(Math.min(HIT_BYTES, source.size - position));
        hitBytes.set(position, Buffer.from(bytes.subarray(0, HIT_BYTES)));
      },
      onProbe: (bytes, offset) => {
        expect(bytes.length).toBe(PROBE_BYTES);
        probes.push(offset);
      },
    },
    (done, total) => {
      expect(total).toBe(source.size);
      progress.push(done);
    },
  );
  return { hits: hits.sort((a, b) => a - b), probes: probes.sort((a, b) => a - b), sectors, progress, hitBytes };
}

/** A file whose reads the pass must do itself: the FileSource without its native searcher. */
function readInChunks(file: FileSource): BlockSource {
  return {
    path: file.path,
    format: file.format,
    size: file.size,
    writable: false,
    get bytesRead() {
      return file.bytesRead;
    },
    read: (offset, length) => file.read(offset, length),
    readInto: (target, offset) => file.readInto(target, offset),
    dataRanges: () => file.dataRanges(),
    close: () => file.close(),
  };
}

/** A file whose pass runs in the addon; where there should be an addon, its absence fails the test. */
async function searchedNatively(path: string): Promise<BlockSource> {
  const file = await FileSource.open(path);
  if (process.platform !== 'win32') expect(await file.signatureSearcher(), 'the addon searches local files on Unix').toBeDefined();
  return file;
}

/** The same bytes as a file searched by the addon, as a file read in chunks, and as a disk that only hands out copies. */
function allSources(name: string, bytes: Uint8Array): Array<[string, () => Promise<BlockSource>]> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return [
    ['a file, searched by the addon', () => searchedNatively(path)],
    ['a file read in chunks', async () => readInChunks(await FileSource.open(path))],
    ['a disk without readInto', async () => new MemorySource(name, new Uint8Array(bytes))], // copies only
  ];
}

describe('the whole-disk pass', () => {
  // Chunks, then a short last chunk that ends off a MiB; more than one native stretch.
  const size = STRETCH_SIZE + 3 * CHUNK_SIZE + 5 * MIB + 1536;
  const onSectors = [0, 512, MIB - 512, CHUNK_SIZE - 512, CHUNK_SIZE, 2 * CHUNK_SIZE + 4096, STRETCH_SIZE - 512, STRETCH_SIZE, size - 512];
  const straddling = CHUNK_SIZE * 2 - 4; // starts in one chunk, ends in the next: not on a sector
  const offStep = [100, CHUNK_SIZE + 8];
  const bytes = diskWith(size, [...onSectors, straddling, ...offStep]);

  for (const [kind, open] of allSources('layout.img', bytes)) {
    it(`reports each signature on a sector once, in any chunk, and none off the step (${kind})`, async () => {
      const source = await open();
      const { hits, sectors, hitBytes } = await pass(source);
      await source.close();
      expect(hits).toEqual(onSectors);
      expect(new Set(sectors)).toEqual(new Set(['EFI PART']));
      for (const at of onSectors) expect(hitBytes.get(at)!.equals(bytes.subarray(at, at + HIT_BYTES)), `the bytes at ${at}`).toBe(true);
    });

    it(`finds a signature that straddles two chunks when the step allows it (${kind})`, async () => {
      const source = await open();
      const { hits } = await pass(source, 4);
      await source.close();
      expect(hits).toContain(straddling);
      expect(hits).toContain(CHUNK_SIZE + 8);
      expect(hits).not.toContain(100 + 2); // only the starts
    });

    it(`probes every whole 1 MiB boundary once and reports progress up to the end (${kind})`, async () => {
      const source = await open();
      const { probes, progress } = await pass(source);
      await source.close();
      const boundaries = Array.from({ length: Math.floor(size / MIB) + 1 }, (_, i) => i * MIB).filter((b) => b + PROBE_BYTES <= size);
      expect(probes).toEqual(boundaries);
      expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never goes back
      expect(progress.at(-1)).toBe(size);
    });
  }

  const everySector = 2 * STRETCH_SIZE + 3 * MIB;
  const full = diskWith(everySector, Array.from({ length: everySector / 512 }, (_, i) => i * 512));
  for (const [kind, open] of allSources('full.img', full)) {
    it(`reports every signature of a disk full of them once (${kind})`, async () => {
      const source = await open();
      const { hits } = await pass(source);
      await source.close();
      expect(hits.length).toBe(everySector / 512);
      expect(hits.every((h, i) => h === i * 512)).toBe(true);
    });
  }

  it('searches only the data of a sparse file, natively, and finds what is there', async () => {
    const path = join(dir, 'sparse.img');
    const fd = openSync(path, 'w');
    const data = diskWith(3 * MIB, [MIB + 1024]);
    writeSync(fd, data, 0, data.length, 40 * MIB + 512 * 1024); // data from 40.5 MiB to 43.5 MiB
    closeSync(fd);
    const size = 64 * MIB;
    const grow = openSync(path, 'r+');
    writeSync(grow, Buffer.from('end'), 0, 3, size - 3); // a last byte, so the file is 64 MiB
    closeSync(grow);
    const source = await searchedNatively(path);
    const ranges = await source.dataRanges!();
    expect(ranges.reduce((sum, [a, b]) => sum + b - a, 0), 'the file has holes').toBeLessThan(16 * MIB);
    const { hits, probes } = await pass(source);
    await source.close();
    expect(hits).toEqual([41 * MIB + 512 * 1024 + 1024]);
    expect(probes).toEqual(expect.arrayContaining([41, 42, 43].map((m) => m * MIB)));
    expect(source.bytesRead).toBeLessThan(16 * MIB);
  });

  it.runIf(process.platform !== 'win32')('never searches through a file once it is closed', async () => {
    const path = join(dir, 'closed.img');
    writeFileSync(path, diskWith(MIB, [512]));
    const file = await FileSource.open(path);
    const searcher = (await file.signatureSearcher())!;
    await file.close();
    await expect(searcher({ from: 0, to: MIB, signature: SIG, step: 512, hitLength: 512, probeEvery: MIB, probeLength: 8, maxHits: 1 })).rejects.toThrow('was closed before the search');
  });

  // A file another program truncates under the hunt: on Linux the addon's mapping of it faults
  // (SIGBUS, which would end this test process) and the stretch is read again, short. Each way
  // refuses with ECHANGED rather than reporting the hunt of half a disk.
  for (const [kind, open] of [
    ['searched by the addon', (path: string) => searchedNatively(path)],
    ['read in chunks', async (path: string) => readInChunks(await FileSource.open(path))],
  ] as const) {
    it(`refuses a file that shrank after it was opened, with ECHANGED (${kind})`, async () => {
      const path = join(dir, `shrinking-${kind.split(' ')[0]}.img`);
      writeFileSync(path, diskWith(STRETCH_SIZE + 4 * MIB, [512, STRETCH_SIZE + MIB]));
      const source = await open(path);
      truncateSync(path, 3 * MIB + 4096);
      await expect(pass(source)).rejects.toMatchObject({ code: 'ECHANGED', message: expect.stringContaining(`${path} shrank while it was searched`) });
      await source.close();
    });
  }

  it('refuses a file that shrinks while the chunks are being read', async () => {
    const path = join(dir, 'shrinks-midway.img');
    writeFileSync(path, diskWith(6 * CHUNK_SIZE, []));
    const file = await FileSource.open(path);
    const chunks = readInChunks(file);
    let reads = 0;
    const shrinking: BlockSource = {
      ...chunks,
      readInto: async (target, offset) => {
        if (reads++ === 1) truncateSync(path, 2 * CHUNK_SIZE + 1000);
        return file.readInto(target, offset);
      },
    };
    await expect(pass(shrinking)).rejects.toMatchObject({ code: 'ECHANGED' });
    await file.close();
  });

  it('cuts the data ranges into disjoint stretches that start on a MiB unless the one before ended later', () => {
    expect([...stretchBounds([[0, 40 * MIB]], 40 * MIB, STRETCH_SIZE)]).toEqual([
      [0, 16 * MIB],
      [16 * MIB, 32 * MIB],
      [32 * MIB, 40 * MIB],
    ]);
    expect([...stretchBounds([[3 * MIB + 5, 3 * MIB + 900], [3 * MIB + 1000, 5 * MIB], [9 * MIB + 7, 100 * MIB]], 10 * MIB, STRETCH_SIZE)]).toEqual([
      [3 * MIB, 3 * MIB + 900],
      [3 * MIB + 900, 5 * MIB],
      [9 * MIB, 10 * MIB],
    ]);
  });

  it('a failed read fails the pass only once no other read is in flight, and no read starts after it', async () => {
    const memory = new MemorySource('failing', diskWith(12 * CHUNK_SIZE, []));
    let inFlight = 0;
    let startedAfterFailure = 0;
    let failedYet = false;
    const failing = {
      size: memory.size,
      read: async (offset: number, length: number) => {
        if (failedYet) startedAfterFailure++;
        inFlight++;
        try {
          await new Promise((resolve) => setTimeout(resolve, offset === 2 * CHUNK_SIZE ? 1 : 20));
          if (offset === 2 * CHUNK_SIZE) {
            failedYet = true;
            throw Object.assign(new Error('EIO: the disk failed here'), { code: 'EIO' });
          }
          return await memory.read(offset, length);
        } finally {
          inFlight--;
        }
      },
      close: async () => undefined,
    } as unknown as BlockSource;
    await expect(pass(failing)).rejects.toThrow('EIO: the disk failed here');
    expect(inFlight).toBe(0);
    expect(startedAfterFailure).toBe(0);
  });

  it('never reads a hole: a signature-free disk of holes reports nothing and reads only its data', async () => {
    const disk = diskWith(8 * CHUNK_SIZE, [5 * CHUNK_SIZE + 1024]);
    const memory = new MemorySource('sparse', disk);
    let read = 0;
    const sparse = {
      size: memory.size,
      read: async (offset: number, length: number) => {
        read += length;
        return memory.read(offset, length);
      },
      dataRanges: async () => [[5 * CHUNK_SIZE, 6 * CHUNK_SIZE]] as Array<[number, number]>,
      close: async () => undefined,
    } as unknown as BlockSource;
    const { hits, probes } = await pass(sparse);
    expect(hits).toEqual([5 * CHUNK_SIZE + 1024]);
    expect(probes).toEqual([20, 21, 22, 23].map((m) => m * MIB));
    expect(read).toBe(CHUNK_SIZE + PROBE_BYTES);
  });
});
