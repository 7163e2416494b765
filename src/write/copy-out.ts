import { open, unlink } from 'node:fs/promises';
import { sameBytes } from '../bytes.js';
import { DiskError, systemErrorCode, type BlockSource } from '../disk/block-source.js';
import { ioError } from '../disk/file-source.js';
import { sourceRanges } from '../disk/ranges.js';

/** Bytes read and written at a time when copying a disk out. */
const COPY_CHUNK = 4 * 1024 * 1024;

/** The refusal for an --output path that exists: said before the plan, and again if one appears meanwhile. */
export function outputExists(outputPath: string): DiskError {
  return new DiskError('EEXIST', `${outputPath} already exists; --output never replaces a file, name a new one. Nothing was written.`);
}

export interface CopyProgress {
  (done: number, total: number): void;
}

/**
 * Writes the virtual disk of `source` (any container, compressed or not) to `outputPath` as a
 * sparse raw image: the file is sized first and only chunks holding a non-zero byte are written,
 * so unallocated space stays a hole. Refuses to replace an existing file. The copy is fsynced
 * before this returns; a copy that failed halfway is removed, so no partial image is left.
 */
export async function writeRawCopy(source: BlockSource, outputPath: string, progress?: CopyProgress): Promise<void> {
  let handle;
  try {
    handle = await open(outputPath, 'wx');
  } catch (err) {
    throw systemErrorCode(err) === 'EEXIST' ? outputExists(outputPath) : ioError(err, outputPath, 'create');
  }
  try {
    await handle.truncate(source.size);
    const zeros = new Uint8Array(COPY_CHUNK);
    const ranges = await sourceRanges(source);
    let done = 0;
    for (const [from, to] of ranges) {
      for (let at = from; at < Math.min(to, source.size); at += COPY_CHUNK) {
        const bytes = await source.read(at, Math.min(COPY_CHUNK, to - at));
        if (!sameBytes(bytes, zeros.subarray(0, bytes.length))) await handle.write(bytes, 0, bytes.length, at);
        done += bytes.length;
        progress?.(done, source.size);
      }
    }
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(outputPath).catch(() => undefined);
    throw err;
  }
}
