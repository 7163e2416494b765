import { closeSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { zlib } from '../lazy-zlib.js';
import { DiskError, type ReadableDisk } from './block-source.js';
import { FileSource } from './file-source.js';
import { SparseWriter } from './sparse-writer.js';
import { ZstdFrameGuard } from './zstd-frames.js';

/**
 * Compressed images (gzip, xz, zstd) are decompressed as a stream into a sparse temporary file
 * (from an open file, or an object read over HTTP(S) in few large requests),
 * which is then opened like any image file: its contents are sniffed again, so a .vhdx.gz or a
 * .qcow2.zst is read through its container reader (composition), and nothing of the image is
 * held in memory. The temporary file is unlinked as soon as it is open (POSIX), so it is gone
 * when the process ends whatever way it ends; on Windows it is deleted on close or exit.
 *
 * Where it goes: os.tmpdir() (TMPDIR, TEMP). Only blocks holding data take space there.
 */
export type Compression = 'gzip' | 'xz' | 'zstd';

export function compressionOf(head: Uint8Array): Compression | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return undefined;
}

/** How far a decompression has got, for a progress line. */
export interface DecompressState {
  path: string;
  compression: Compression;
  /** Compressed bytes read, of `total`. */
  read: number;
  total: number;
  /** Decompressed bytes so far. */
  produced: number;
  done: boolean;
}
export type DecompressProgress = (state: DecompressState) => void;

/** Decompressions run one at a time, so that `scan --jobs 8` holds one decoder's window, not eight. */
let queue: Promise<unknown> = Promise.resolve();

/** Decompresses the whole of `input` (a compressed image, open) into a temporary file, opened read-only as `input.path`. */
export function decompressToTemp(input: ReadableDisk, compression: Compression, progress?: DecompressProgress): Promise<FileSource> {
  const run = queue.then(() => decompress(input, compression, progress));
  queue = run.catch(() => undefined);
  return run;
}

async function decompress(input: ReadableDisk, compression: Compression, progress?: DecompressProgress): Promise<FileSource> {
  const { path, size: total } = input;
  const temp = createTemp(path);
  const writer = new SparseWriter(temp.fd);
  let consumed = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of wholeDisk(input)) {
      consumed += chunk.length;
      yield chunk;
    }
  }
  const compressed = Readable.from(counted(), { objectMode: false });
  const report = (read: number, done: boolean): void => progress?.({ path, compression, read, total, produced: writer.size, done });
  let nextReport = 0;
  const sink = (bytes: Uint8Array): void => {
    writer.push(bytes);
    if (progress && writer.size >= nextReport) {
      nextReport = writer.size + PROGRESS_EVERY;
      report(consumed, false);
    }
  };
  try {
    try {
      await DECODERS[compression](compressed, sink);
    } finally {
      compressed.destroy();
    }
    const ranges = writer.finish();
    report(total, true);
    return FileSource.fromDescriptor(path, temp.fd, writer.size, { dataRanges: ranges, onClose: temp.remove });
  } catch (err) {
    closeSync(temp.fd);
    temp.remove();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new DiskError('ENOSPC', `not enough space in ${tmpdir()} to decompress ${path}; set TMPDIR to a directory with more room`);
    }
    if (err instanceof DiskError) throw err;
    throw new DiskError('EFORMAT', `${path} looks ${compression}-compressed but cannot be decompressed: ${(err as Error).message}`);
  }
}

/** Bytes per read when a disk without stream() is read whole. */
const PIECE = 1024 * 1024;

/** Every byte of `disk` once, front to back: its own stream where it has one (HTTP), else reads. */
async function* wholeDisk(disk: ReadableDisk): AsyncGenerator<Uint8Array> {
  if (disk.stream) {
    yield* disk.stream();
    return;
  }
  for (let at = 0; at < disk.size; at += PIECE) {
    const bytes = await disk.read(at, PIECE);
    if (bytes.length) yield bytes;
    if (bytes.length < Math.min(PIECE, disk.size - at)) return; // the file shrank under us
  }
}

/** Progress is reported each time this many more bytes have come out. */
const PROGRESS_EVERY = 8 * 1024 * 1024;

type Sink = (bytes: Uint8Array) => void;
type Decoder = (input: Readable, sink: Sink) => Promise<void>;

const DECODERS: Record<Compression, Decoder> = {
  async gzip(input, sink) {
    const gunzip = zlib().createGunzip();
    input.on('error', (err) => gunzip.destroy(err)); // pipe() does not forward a read error
    for await (const chunk of input.pipe(gunzip)) sink(chunk as Buffer);
  },

  async xz(input, sink) {
    // A webpack UMD bundle: Node's CommonJS loader exposes it only as the default export.
    const { XzReadableStream } = ((await import('xz-decompress')) as unknown as { default: typeof import('xz-decompress') }).default;
    const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
    for await (const chunk of new XzReadableStream(web) as unknown as AsyncIterable<Uint8Array>) sink(chunk);
  },

  async zstd(input, sink) {
    const { Decompress } = await import('fzstd');
    const guard = new ZstdFrameGuard();
    const decoder = new Decompress((bytes) => sink(bytes));
    for await (const chunk of input) {
      const bytes = chunk as Buffer;
      guard.push(bytes);
      // Small pieces: fzstd recurses once per frame a piece ends, so a piece of tiny frames stays shallow.
      for (let at = 0; at < bytes.length; at += 16 * 1024) decoder.push(bytes.subarray(at, at + 16 * 1024));
    }
    decoder.push(new Uint8Array(0), true);
  },
};

interface TempFile {
  fd: number;
  /** Deletes the file if it still has a name (Windows); safe to call twice. */
  remove: () => void;
}

function createTemp(forPath: string): TempFile {
  const dir = tmpdir();
  for (let attempt = 0; ; attempt++) {
    const name = join(dir, `gptdoctor-${process.pid}-${Date.now().toString(36)}-${attempt}.img`);
    let fd: number;
    try {
      fd = openSync(name, 'wx+', 0o600); // exclusive: never follows a planted link
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 16) continue;
      throw new DiskError('EIO', `cannot create a temporary file in ${dir} to decompress ${forPath}: ${(err as Error).message}; set TMPDIR to a writable directory`);
    }
    let named = true;
    const remove = (): void => {
      if (!named) return;
      named = false;
      process.off('exit', remove);
      try {
        unlinkSync(name);
      } catch {
        // already gone
      }
    };
    if (process.platform === 'win32') process.on('exit', remove); // an open file cannot be unlinked there
    else remove();
    return { fd, remove };
  }
}
