import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MemorySource } from '../../src/disk/memory-source.js';
import { run, tempDir } from './tools.js';

export const IMAGES_DIR = new URL('../images/', import.meta.url).pathname;

export interface ManifestEntry {
  description: string;
  sectorSize: number;
  size: number;
  sha256: string;
  sfdisk: { partitiontable: { id: string; partitions?: Array<{ node: string; start: number; size: number; type: string; uuid: string; name?: string; attrs?: string }> } } | null;
  sfdiskVerify: string | null;
  sgdiskPrint: string | null;
  sgdiskVerify: string;
  tags: string[];
}

export function manifest(): Record<string, ManifestEntry> {
  return JSON.parse(readFileSync(join(IMAGES_DIR, 'manifest.json'), 'utf8')) as Record<string, ManifestEntry>;
}

/** The uncompressed bytes of a committed fixture. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(IMAGES_DIR, `${name}.img.gz`))));
}

/** Writes a fixture, uncompressed, into `dir` and returns its path. */
export function fixtureFile(name: string, dir: string): string {
  const path = join(dir, `${name}.img`);
  writeFileSync(path, fixtureBytes(name));
  return path;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** A GPT image written by sfdisk from a script (512-byte sectors), returned as bytes. */
export function sfdiskImage(script: string, sizeMiB: number): Uint8Array {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'disk.img');
    writeFileSync(file, '');
    truncateSync(file, sizeMiB * 1024 * 1024);
    run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', file], script);
    return new Uint8Array(readFileSync(file));
  } finally {
    dir.cleanup();
  }
}

export const memory = (bytes: Uint8Array, writable = false, path = 'memory.img'): MemorySource => new MemorySource(path, bytes, writable);
