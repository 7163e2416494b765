import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryReader } from '../src/fs/byte-reader.js';
import { sniffFilesystem, type FilesystemKind } from '../src/fs/sniff.js';
import { haveTools, prng, run, tempDir } from './helpers/tools.js';

/** Each filesystem made by its own mkfs; the sniffer must name it from a few small reads. */
const MAKERS: Array<[FilesystemKind, string, (file: string) => void]> = [
  ['fat12', 'mkfs.fat', (f) => run('mkfs.fat', ['-F', '12', f])],
  ['fat16', 'mkfs.fat', (f) => run('mkfs.fat', ['-F', '16', f])],
  ['fat32', 'mkfs.fat', (f) => run('mkfs.fat', ['-F', '32', '-s', '1', f])],
  ['ntfs', 'mkntfs', (f) => run('mkntfs', ['-Q', '-F', '-q', f])],
  ['ext2', 'mkfs.ext2', (f) => run('mkfs.ext2', ['-q', '-F', f])],
  ['ext3', 'mkfs.ext3', (f) => run('mkfs.ext3', ['-q', '-F', f])],
  ['ext4', 'mkfs.ext4', (f) => run('mkfs.ext4', ['-q', '-F', f])],
  ['swap', 'mkswap', (f) => run('mkswap', [f])],
  ['xfs', 'mkfs.xfs', (f) => run('mkfs.xfs', ['-q', '-f', f])],
  ['btrfs', 'mkfs.btrfs', (f) => run('mkfs.btrfs', ['-q', '-f', f])],
  ['exfat', 'mkfs.exfat', (f) => run('mkfs.exfat', [f])],
  ['luks', 'cryptsetup', (f) => run('cryptsetup', ['luksFormat', '-q', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', f, '-d', '-'], 'secret')],
];

describe('filesystem sniffing', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each(MAKERS.filter(([, tool]) => haveTools(tool)))('recognises %s made by %s', async (kind, _tool, make) => {
    const file = join(dir.path, `${kind}.img`);
    writeFileSync(file, '');
    truncateSync(file, (kind === 'fat32' ? 40 : kind === 'xfs' ? 300 : kind === 'btrfs' ? 120 : 33) * 1024 * 1024);
    make(file);
    const reads: number[] = [];
    const bytes = new Uint8Array(readFileSync(file));
    const reader = memoryReader(bytes);
    const counting = { size: reader.size, read: (o: number, l: number) => (reads.push(l), reader.read(o, l)) };
    expect((await sniffFilesystem(counting)).kind).toBe(kind);
    expect(reads.length).toBeLessThanOrEqual(4);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(16384);
  });

  it('calls an all-zero partition zeroed and random bytes unknown', async () => {
    expect((await sniffFilesystem(memoryReader(new Uint8Array(1 << 20)))).kind).toBe('zeroed');
    const rand = prng(3);
    const noise = Uint8Array.from({ length: 1 << 20 }, () => Math.floor(rand() * 256));
    expect((await sniffFilesystem(memoryReader(noise))).kind).toBe('unknown');
    expect((await sniffFilesystem(memoryReader(new Uint8Array(0)))).kind).toBe('unknown');
  });
});
