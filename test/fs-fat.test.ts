import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryReader } from '../src/fs/byte-reader.js';
import { openFat } from '../src/fs/fat.js';
import { haveTools, prng, run, tempDir } from './helpers/tools.js';

/** FAT volumes made by mkfs.fat and filled by mtools; gptdoctor's reader must agree with mdir and minfo. */
const mtool = (cmd: string, ...args: string[]): string =>
  run('env', ['MTOOLS_SKIP_CHECK=1', cmd, ...args]);

describe.runIf(haveTools('mkfs.fat', 'mmd', 'mcopy', 'mdir', 'minfo'))('FAT reader against mtools', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  function makeVolume(name: string, fatBits: 12 | 16 | 32, sizeKiB: number, sectorsPerCluster = 1): string {
    const img = join(dir.path, `${name}.fat`);
    run('mkfs.fat', ['-F', String(fatBits), '-s', String(sectorsPerCluster), '-n', 'TESTVOL', '-C', img, String(sizeKiB)]);
    const payload = join(dir.path, 'payload.bin');
    writeFileSync(payload, Buffer.alloc(5000, 0x42));
    mtool('mmd', '-i', img, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot', '::/EFI/Boot', '::/many');
    mtool('mcopy', '-i', img, payload, '::/EFI/Microsoft/Boot/bootmgfw.efi');
    mtool('mcopy', '-i', img, payload, '::/EFI/Boot/BOOTX64.EFI');
    mtool('mcopy', '-i', img, payload, '::/EFI/Microsoft/Boot/BCD');
    mtool('mcopy', '-i', img, payload, '::/A rather long file name with spaces.txt');
    // Enough files for the directory to span several clusters.
    for (let i = 0; i < 40; i++) mtool('mcopy', '-i', img, payload, `::/many/file number ${i} with a long name.dat`);
    return img;
  }

  function mtoolsFree(img: string): number {
    const out = mtool('mdir', '-i', img, '::/');
    const m = /([\d ]+) bytes free/.exec(out);
    return Number(m![1]!.replace(/ /g, ''));
  }

  function mtoolsListing(img: string, path: string): string[] {
    return mtool('mdir', '-i', img, '-b', `::${path}`).trim().split('\n').map((l) => l.replace(/\/$/, '').replace(/^.*\//, '')).sort();
  }

  it.each([[12, 4096, 4], [16, 32768, 2], [32, 102400, 1]] as const)('FAT%i: listings, EFI files and free space match mtools', async (bits, size, spc) => {
    const img = makeVolume(`fat${bits}`, bits, size, spc);
    const vol = await openFat(memoryReader(new Uint8Array(readFileSync(img))));
    expect(vol.kind).toBe(`fat${bits}`);
    expect(vol.label).toBe('TESTVOL');
    expect(vol.problems).toEqual([]);
    expect((await vol.readDir('/')).map((e) => e.name).sort()).toEqual(mtoolsListing(img, '/'));
    expect((await vol.readDir('\\many')).map((e) => e.name).sort()).toEqual(mtoolsListing(img, '/many'));
    expect((await vol.readDir('/many')).length).toBe(40);
    expect(await vol.findEfiBootFiles()).toEqual(expect.arrayContaining(['\\EFI\\Microsoft\\Boot\\bootmgfw.efi', '\\EFI\\Boot\\BOOTX64.EFI']));
    expect(await vol.findEfiBootFiles()).toHaveLength(2);
    expect(await vol.exists('\\efi\\microsoft\\boot\\BOOTMGFW.EFI')).toBe(true);
    expect(await vol.exists('\\EFI\\nothing')).toBe(false);
    expect((await vol.stat('/A rather long file name with spaces.txt'))?.size).toBe(5000);
    expect(await vol.freeBytes()).toBe(mtoolsFree(img));
  });

  it('computes free space from the FAT even when FSInfo lies', async () => {
    const img = makeVolume('fsinfo', 32, 102400);
    const bytes = new Uint8Array(readFileSync(img));
    const honest = await (await openFat(memoryReader(bytes))).freeBytes();
    bytes.set([0x10, 0x27, 0, 0], 512 + 488); // FSInfo free count := 10000
    const vol = await openFat(memoryReader(bytes));
    expect(vol.fsInfoFreeClusters).toBe(10000);
    expect(await vol.freeBytes()).toBe(honest);
  });

  it('sees a nearly full volume', async () => {
    const img = join(dir.path, 'full.fat');
    run('mkfs.fat', ['-F', '32', '-s', '1', '-C', img, String(40 * 1024)]);
    const filler = join(dir.path, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(30 * 1024 * 1024));
    mtool('mcopy', '-i', img, filler, '::/filler.bin');
    const vol = await openFat(memoryReader(new Uint8Array(readFileSync(img))));
    expect(await vol.freeBytes()).toBe(mtoolsFree(img));
    expect(await vol.freeBytes()).toBeLessThan(15 * 1024 * 1024);
  });

  it('stops counting once enough is free, reading only the start of the FAT; exact below that', async () => {
    const img = makeVolume('early', 32, 102400, 1); // 100 MiB, 512-byte clusters: an 800 KiB FAT
    const bytes = new Uint8Array(readFileSync(img));
    let read = 0;
    const counting = memoryReader(bytes);
    const reader = { ...counting, read: (offset: number, length: number) => ((read += length), counting.read(offset, length)) };
    const vol = await openFat(reader);
    const exact = mtoolsFree(img);
    read = 0;
    const bound = await vol.freeBytes(15 * 1024 * 1024);
    expect(bound).toBeGreaterThanOrEqual(15 * 1024 * 1024);
    expect(bound).toBeLessThanOrEqual(exact);
    expect(read).toBeLessThan(256 * 1024);
    expect(await vol.freeBytes(exact + 1)).toBe(exact); // never reached: every entry counted
    expect(await vol.freeBytes()).toBe(exact);
  });

  // The test's timeout is the bound: a mutated FAT chain must never make the reader loop.
  it('survives 2,000 random mutations of the metadata without looping', async () => {
    const img = makeVolume('fuzz', 16, 8192);
    const original = new Uint8Array(readFileSync(img));
    const rand = prng(0xfa7);
    for (let i = 0; i < 2000; i++) {
      const bytes = original.slice(0, 256 * 1024);
      for (let f = 0; f < 1 + Math.floor(rand() * 12); f++) bytes[Math.floor(rand() * 65536)] = Math.floor(rand() * 256);
      try {
        const vol = await openFat(memoryReader(bytes));
        await vol.freeBytes();
        await vol.findEfiBootFiles();
        await vol.readDir('/').catch((e: unknown) => expect(e).toBeInstanceOf(Error));
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(RangeError);
      }
    }
  }, 30_000);

  it('rejects what is not FAT with a reason', async () => {
    await expect(openFat(memoryReader(new Uint8Array(4096)))).rejects.toThrow(/not a FAT volume/);
  });
});
