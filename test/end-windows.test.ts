import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { EndWindows } from '../src/disk/end-windows.js';
import { FileSource } from '../src/disk/file-source.js';
import { MemorySource } from '../src/disk/memory-source.js';
import { fixtureBytes, fixtureFile } from './helpers/images.js';
import { tempDir } from './helpers/tools.js';

/** A file of `size` bytes (byte i holds i mod 251) behind EndWindows of `window` bytes, counting its reads. */
function windowsOver(size: number, window: number, shrinkTo = size) {
  const file = Uint8Array.from({ length: size }, (_, i) => i % 251);
  const reads: Array<[number, number]> = [];
  const windows = new EndWindows(
    size,
    (buffer, offset) => {
      const got = Math.max(0, Math.min(buffer.length, shrinkTo - offset));
      buffer.set(file.subarray(offset, offset + got));
      reads.push([offset, buffer.length]);
      return got;
    },
    window,
  );
  return { file, reads, windows };
}

describe('the two ends of a local image (EndWindows)', () => {
  it('reads each end once, the first time a read falls in it, and serves later reads there', () => {
    const { file, reads, windows } = windowsOver(10_000, 1000);
    expect(windows.read(0, 512)).toEqual(file.subarray(0, 512));
    expect(windows.read(512, 488)).toEqual(file.subarray(512, 1000));
    expect(windows.read(9488, 512)).toEqual(file.subarray(9488, 10_000));
    expect(windows.read(9000, 100)).toEqual(file.subarray(9000, 9100));
    expect(reads).toEqual([
      [0, 1000],
      [9000, 1000],
    ]);
  });

  it('leaves a read that is not wholly in one end to the file', () => {
    const { reads, windows } = windowsOver(10_000, 1000);
    expect(windows.read(900, 200)).toBeUndefined();
    expect(windows.read(5000, 10)).toBeUndefined();
    expect(windows.read(8990, 20)).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('hands out copies, so a caller that changes its bytes changes neither the window nor the next read', () => {
    const { file, windows } = windowsOver(4096, 1024);
    const first = windows.read(0, 16)!;
    first.fill(0xff);
    expect(windows.read(0, 16)).toEqual(file.subarray(0, 16));
  });

  it('cuts a read at the end of the file, and at the end of a file that shrank after it was opened', () => {
    const { file, windows } = windowsOver(4096, 1024);
    expect(windows.read(4000, 512)).toEqual(file.subarray(4000, 4096));
    const shrunk = windowsOver(4096, 1024, 3500);
    expect(shrunk.windows.read(3400, 200)).toEqual(shrunk.file.subarray(3400, 3500));
    expect(shrunk.windows.read(3600, 100)).toEqual(new Uint8Array(0));
  });

  it('on a file smaller than two windows, has no byte in both ends', () => {
    const { file, reads, windows } = windowsOver(1500, 1000);
    expect(windows.read(1200, 300)).toEqual(file.subarray(1200, 1500));
    expect(windows.read(0, 1000)).toEqual(file.subarray(0, 1000));
    expect(reads).toEqual([
      [1000, 500],
      [0, 1000],
    ]);
    const small = windowsOver(600, 1000);
    expect(small.windows.read(100, 500)).toEqual(small.file.subarray(100, 600));
    expect(small.reads).toEqual([[0, 600]]);
  });
});

describe('a structure check of a local image', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  // sgdisk's images at 512 and 4096 bytes a sector, and the Windows fixture: 128 entries each.
  for (const name of ['linux', 'sector4k', 'windows-esp-basic']) {
    it(`makes two reads of ${name}, and reports what a disk read sector by sector reports`, async () => {
      const path = fixtureFile(name, dir.path);
      const source = await FileSource.open(path);
      let windowed;
      try {
        windowed = await checkDisk(source, { profile: 'structure' });
        expect(source.systemReads).toBe(2);
      } finally {
        await source.close();
      }
      const plain = await checkDisk(new MemorySource(path, fixtureBytes(name)), { profile: 'structure' });
      expect({ ...windowed, source: undefined }).toEqual({ ...plain, source: undefined });
      expect(windowed.partitions.length).toBeGreaterThan(0);
    });
  }

  it('a file opened for writing reads the file itself, so it reads back what it wrote', async () => {
    const path = join(dir.path, 'written.img');
    writeFileSync(path, new Uint8Array(64 * 1024));
    const source = await FileSource.open(path, { writable: true });
    try {
      expect(await source.read(0, 4)).toEqual(new Uint8Array(4));
      await source.write(0, Uint8Array.of(1, 2, 3, 4));
      expect(await source.read(0, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    } finally {
      await source.close();
    }
  });
});
