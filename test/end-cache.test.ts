import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { EndCache, END_WINDOW } from '../src/disk/end-cache.js';
import { FileSource } from '../src/disk/file-source.js';
import { fixtureFile } from './helpers/images.js';
import { prng, tempDir } from './helpers/tools.js';

/**
 * The head and tail of a read-only file, each fetched in one read: against a counting fake, and a
 * structure check of real images (sgdisk's, at 512 and 4096 bytes a sector) that makes two reads.
 */

function fakeFile(size: number): Uint8Array {
  const random = prng(3);
  return Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
}

function counted(bytes: Uint8Array, window = END_WINDOW): { cache: EndCache; reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  const cache = new EndCache(bytes.length, (target, offset) => {
    const n = Math.max(0, Math.min(target.length, bytes.length - offset));
    target.set(bytes.subarray(offset, offset + n));
    reads.push([offset, offset + n]);
    return n;
  }, window);
  return { cache, reads };
}

describe('EndCache', () => {
  const size = 1024 * 1024 + 1000; // not a whole number of windows, as a real image need not be
  const file = fakeFile(size);

  it('serves every read within the head from one read of the window, and within the tail from one more', () => {
    const { cache, reads } = counted(file);
    for (const [offset, length] of [[0, 512], [512, 512], [1024, 16384], [0, 8192], [4096, 4096], [8192, 16384]] as const) {
      expect(cache.read(offset, length)).toEqual(file.slice(offset, offset + length));
    }
    for (const [offset, length] of [[size - 512, 512], [size - 512 - 16384, 16384], [size - 4096, 4096], [size - END_WINDOW, END_WINDOW]] as const) {
      expect(cache.read(offset, length)).toEqual(file.slice(offset, offset + length));
    }
    expect(reads).toEqual([[0, END_WINDOW], [size - END_WINDOW, size]]);
  });

  it('leaves any other read to the file: the middle, and ranges that run out of a window', () => {
    const { cache, reads } = counted(file);
    expect(cache.read(END_WINDOW * 4, 512)).toBeUndefined();
    expect(cache.read(END_WINDOW - 100, 512)).toBeUndefined();
    expect(cache.read(size - END_WINDOW - 100, 512)).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('hands out copies: changing one changes nothing kept', () => {
    const { cache } = counted(file);
    const first = cache.read(0, 512)!;
    first.fill(0xff);
    expect(cache.read(0, 512)).toEqual(file.slice(0, 512));
  });

  it('a file smaller than a window is read once, whole, and a read past its end gets what there is', () => {
    const small = fakeFile(3000);
    const { cache, reads } = counted(small);
    expect(cache.read(0, 512)).toEqual(small.slice(0, 512));
    expect(cache.read(2900, 512)).toEqual(small.slice(2900));
    expect(cache.read(3000, 512)).toBeUndefined();
    expect(reads).toEqual([[0, 3000]]);
  });

  it('a file that shrank after it was opened gives what is there, never bytes it does not have', () => {
    const shrunk = file.slice(0, 10_000);
    const reads: Array<[number, number]> = [];
    const cache = new EndCache(size, (target, offset) => {
      const n = Math.max(0, Math.min(target.length, shrunk.length - offset));
      target.set(shrunk.subarray(offset, offset + n));
      reads.push([offset, n]);
      return n;
    });
    expect(cache.read(0, 512)).toEqual(shrunk.slice(0, 512));
    expect(cache.read(9_000, 4096)).toBeUndefined(); // past what the window holds now: read it directly
    expect(cache.read(size - 512, 512)).toBeUndefined();
  });
});

describe('a structure check of an image file', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  for (const name of ['linux', 'sector4k', 'entries256', 'entry-size-256', 'windows-esp-basic']) {
    it(`${name}: two reads of the file, the head and the tail`, async () => {
      const source = await FileSource.open(fixtureFile(name, dir.path));
      try {
        const report = await checkDisk(source, { profile: 'structure' });
        expect(report.partitions.length).toBeGreaterThan(0);
        expect(source.systemReads).toBe(2);
      } finally {
        await source.close();
      }
    });
  }

  it('a file opened for writing keeps nothing: what it reads is what is on disk now', async () => {
    const source = await FileSource.open(fixtureFile('linux', dir.path), { writable: true });
    try {
      const before = await source.read(512, 8);
      await source.write(512, new TextEncoder().encode('NOT PART'));
      expect(new TextDecoder().decode(await source.read(512, 8))).toBe('NOT PART');
      expect(new TextDecoder().decode(before)).toBe('EFI PART');
    } finally {
      await source.close();
    }
  });
});
