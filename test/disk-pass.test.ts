// The recover hunt's whole-disk pass (src/recover/disk-pass.ts) reads chunks three at a time and
// searches them as their reads finish. These tests put signatures where a chunked reader can go
// wrong (across a chunk's end, in a disk's last bytes, off the sector step, after a hole) and
// check that each is reported once, and that every 1 MiB boundary is probed once, on a file
// (reads in place, on libuv's threads) and on a disk that can only hand out copies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockSource } from '../src/disk/block-source.js';
import { FileSource } from '../src/disk/file-source.js';
import { MemorySource } from '../src/disk/memory-source.js';
import { CHUNK_SIZE, PROBE_BYTES, passOverDisk } from '../src/recover/disk-pass.js';

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

async function pass(source: BlockSource, step = 512): Promise<{ hits: number[]; probes: number[]; sectors: string[]; progress: number[] }> {
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
  return { hits: hits.sort((a, b) => a - b), probes: probes.sort((a, b) => a - b), sectors, progress };
}

/** The same bytes as a file (FileSource reads in place) and as a disk that only hands out copies. */
function bothSources(name: string, bytes: Uint8Array): Array<[string, () => Promise<BlockSource>]> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return [
    ['a file', () => FileSource.open(path)],
    ['a disk without readInto', async () => new MemorySource(name, new Uint8Array(bytes))], // copies only
  ];
}

describe('the whole-disk pass', () => {
  const size = 3 * CHUNK_SIZE + 5 * MIB + 1536; // chunks, then a short last chunk that ends off a MiB
  const onSectors = [0, 512, CHUNK_SIZE - 512, CHUNK_SIZE, 2 * CHUNK_SIZE + 4096, size - 512];
  const straddling = CHUNK_SIZE * 2 - 4; // starts in one chunk, ends in the next: not on a sector
  const offStep = [100, CHUNK_SIZE + 8];
  const bytes = diskWith(size, [...onSectors, straddling, ...offStep]);

  for (const [kind, open] of bothSources('layout.img', bytes)) {
    it(`reports each signature on a sector once, in any chunk, and none off the step (${kind})`, async () => {
      const source = await open();
      const { hits, sectors } = await pass(source);
      await source.close();
      expect(hits).toEqual(onSectors);
      expect(new Set(sectors)).toEqual(new Set(['EFI PART']));
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
