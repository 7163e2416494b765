import { closeSync, constants, fstatSync, fsyncSync, openSync, read as readAsync, readSync, writeSync } from 'node:fs';
import { DiskError, systemErrorCode, type BlockSource, type SignatureSearcher, type SourceFormat } from './block-source.js';
import { EndWindows } from './end-windows.js';
import { onNetworkFileSystem } from './network-fs.js';
import { HEAD_BYTES, ReadCache } from './read-cache.js';

/**
 * A raw image file (or anything Node can read by offset). Only the requested ranges are read,
 * so sparse multi-terabyte images cost nothing. Opened read-only unless `writable` is asked for.
 *
 * I/O is synchronous under async signatures, but for files on a network file system (read through
 * a ReadCache, whose few large reads should wait side by side) and readInto (the whole-disk pass):
 * locally the ranges are small and usually cached, and a promise-based read costs ten times the
 * syscall itself, which dominates a scan of many images.
 */
/**
 * Read-only opens leave even the file's access time alone where the OS allows it (Linux
 * O_NOATIME, for the file's owner or root), so inspecting evidence changes none of its metadata.
 */
export function openReadOnly(path: string): number {
  const noAtime = (constants as { O_NOATIME?: number }).O_NOATIME;
  if (noAtime) {
    try {
      return openSync(path, constants.O_RDONLY | noAtime);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err; // not the owner: plain open
    }
  }
  return openSync(path, 'r');
}

/** What a file opened from a descriptor knows that the file system cannot tell (a decompressed image). */
export interface DescriptorExtras {
  /** The byte ranges that hold data; the rest is holes. */
  dataRanges?: Array<[number, number]>;
  /** Runs after the descriptor is closed (deletes a temporary file). */
  onClose?: () => void;
}

export class FileSource implements BlockSource {
  readonly format: SourceFormat = 'raw';
  private read_ = 0;
  private systemReads_ = 0;
  private closed = false;
  /**
   * On a network file system, a read-only file's read cache (read-cache.ts, as for disks over
   * HTTP): its reads go out on libuv's threads, few and large, so that the images a scan has open
   * wait for their round trips side by side.
   */
  private readonly cache: ReadCache | undefined;
  /** Locally, a read-only file's two ends, each read once (end-windows.ts): a check's reads fall there. */
  private readonly ends: EndWindows | undefined;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
    readonly writable: boolean,
    private readonly extras: DescriptorExtras = {},
    /** Read-only, on a network file system: read through a ReadCache. */
    remote = false,
  ) {
    this.cache = remote && !writable ? new ReadCache(size, (start, end) => this.fetchRange(start, end)) : undefined;
    // Not for a file opened for writing: what it writes must be what it reads back.
    this.ends = !remote && !writable ? new EndWindows(size, (buffer, offset) => this.readFully(buffer, offset)) : undefined;
  }

  /**
   * A file already open, shown as `path`: a decompressed image lives in a temporary file that
   * has no name of its own, and every message names the image the user gave. Read-only.
   */
  static fromDescriptor(path: string, fd: number, size: number, extras: DescriptorExtras): FileSource {
    return new FileSource(path, fd, size, false, extras);
  }

  static async open(path: string, options: { writable?: boolean } = {}): Promise<FileSource> {
    const writable = options.writable ?? false;
    let fd: number;
    try {
      fd = writable ? openSync(path, 'r+') : openReadOnly(path);
    } catch (err) {
      throw ioError(err, path, writable ? 'open for writing' : 'open');
    }
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      closeSync(fd);
      throw new DiskError('EISDIR', `${path} is a directory, not a disk image`);
    }
    const remote = !writable && onNetworkFileSystem(path);
    const source = new FileSource(path, fd, stat.size, writable, {}, remote);
    if (remote) await source.readHead();
    return source;
  }

  /**
   * The first request of a file on a share reads HEAD_BYTES, as a disk over HTTP's does: the MBR,
   * the primary GPT at any sector size and a container's first header; the tail comes in one more.
   */
  private async readHead(): Promise<void> {
    const head = await this.fetchRange(0, Math.min(this.size, HEAD_BYTES));
    this.cache!.fill(0, head);
  }

  /** [start, end) of the file, read on libuv's threads (fewer bytes only if it shrank under us). */
  private async fetchRange(start: number, end: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(end - start);
    return bytes.subarray(0, await this.readFullyAsync(bytes, start));
  }

  get bytesRead(): number {
    return this.read_;
  }

  /** Reads that reached the file (on a network share, each a round trip): a structure check there makes two. */
  get systemReads(): number {
    return this.systemReads_;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.cache) {
      const bytes = await this.cache.read(offset, length);
      this.read_ += bytes.length;
      return bytes;
    }
    const windowed = this.ends?.read(offset, length);
    if (windowed) {
      this.read_ += windowed.length;
      return windowed;
    }
    const buffer = new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
    const done = this.readFully(buffer, offset);
    this.read_ += done;
    return done === buffer.length ? buffer : buffer.subarray(0, done);
  }

  /**
   * Asynchronous, as a network file's reads are: used for large chunks of a whole-disk pass, where
   * the promise costs nothing beside the copy, and several in flight run on libuv's threads at once.
   */
  async readInto(target: Uint8Array, offset: number): Promise<number> {
    const done = await this.readFullyAsync(target.subarray(0, Math.max(0, Math.min(target.length, this.size - offset))), offset);
    this.read_ += done;
    return done;
  }

  /** Fills `buffer` from `offset` on libuv's threads, or as far as the file goes. */
  private async readFullyAsync(buffer: Uint8Array, offset: number): Promise<number> {
    let done = 0;
    while (done < buffer.length) {
      this.systemReads_++;
      const got = await new Promise<number>((resolve, reject) =>
        readAsync(this.fd, buffer, done, buffer.length - done, offset + done, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))),
      );
      if (got === 0) break; // the file shrank under us: hand back what exists
      done += got;
    }
    return done;
  }

  private readFully(buffer: Uint8Array, offset: number): number {
    let done = 0;
    while (done < buffer.length) {
      this.systemReads_++;
      const got = readSync(this.fd, buffer, done, buffer.length - done, offset + done);
      if (got === 0) break; // the file shrank under us: hand back what exists
      done += got;
    }
    return done;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
  }

  async flush(): Promise<void> {
    fsyncSync(this.fd);
  }

  /** Holes of a sparse image come from SEEK_DATA/SEEK_HOLE in the native addon, when it is built. */
  async dataRanges(): Promise<Array<[number, number]>> {
    if (this.extras.dataRanges) return this.extras.dataRanges;
    // As many 512-byte blocks allocated as the file is long: it has no holes to ask the addon for
    // (loading it and seeking through the file cost more than the rest of a small hunt). Blocks
    // preallocated past the end can hide holes here; they are then read as the zeros they are.
    const { blocks, size } = fstatSync(this.fd);
    // A file that shrank since it was opened: its holes would hide that, so the whole disk is
    // given, and the pass that reads it finds it short and says so (recover/disk-pass.ts).
    if (size < this.size || (blocks > 0 && blocks * 512 >= this.size)) return [[0, this.size]];
    try {
      const { loadAddon } = await import('./device-source.js');
      return (await loadAddon().dataRanges(this.path)).map(([a, b]) => [a!, b!] as [number, number]);
    } catch {
      return [[0, this.size]];
    }
  }

  /**
   * The addon's search over this file's descriptor (Unix; see ReadableDisk): mapped on Linux,
   * read with pread elsewhere. Not for a file on a network share, whose reads go through the read
   * cache, nor where the addon is missing or older than the search.
   */
  async signatureSearcher(): Promise<SignatureSearcher | undefined> {
    if (this.cache || process.platform === 'win32') return undefined;
    const { loadAddon, nativeError } = await import('./device-source.js');
    let searchFile;
    try {
      ({ searchFile } = loadAddon());
    } catch {
      return undefined;
    }
    if (typeof searchFile !== 'function') return undefined;
    return async (search) => {
      // A closed descriptor's number may already belong to another file: never search through it.
      if (this.closed) throw new DiskError('EIO', `${this.path} was closed before the search`);
      const found = await searchFile(this.fd, { ...search, size: this.size, signature: Buffer.from(search.signature) }).catch((err: unknown) => {
        throw nativeError(err, this.path);
      });
      this.read_ += found.end - search.from;
      let at = 0;
      const hits = found.hits.map((position, i) => {
        const bytes = found.hitBytes.subarray(at, (at += found.hitLengths[i]!));
        return { position, bytes };
      });
      const probes = found.probes.map((offset, i) => ({ offset, bytes: found.probeBytes.subarray(i * search.probeLength, (i + 1) * search.probeLength) }));
      return { end: found.end, short: found.short === true, hits, probes };
    };
  }

  /**
   * Closes once: a second close must not close a descriptor number the OS has since handed to
   * another open (a later image of a scan would then fail with EBADF, or read the wrong file).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    this.extras.onClose?.();
  }
}

const IO_REASONS: Record<string, string> = {
  ENOENT: 'no such file or device',
  EACCES: 'permission denied (run as root/Administrator, or check the file mode)',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  EBUSY: 'the device is busy (mounted or held open by another program)',
  EROFS: 'the file system is read-only',
  ELOOP: 'its symbolic links loop (or nest too deeply) and lead to no file',
  ENAMETOOLONG: 'the path, or one of its names, is too long for the file system',
  ENOTDIR: 'a part of the path that should be a directory is a file',
  EMFILE: 'too many files are open (raise the limit with ulimit -n)',
  ENFILE: 'the system has too many files open',
  ENXIO: 'no such device (it may have been removed)',
  ENODEV: 'no such device',
  EIO: 'the device reported an I/O error (a failing disk or a bad sector)',
};

/**
 * Turns a Node I/O error into a DiskError with a stable code and a sentence a person can act on.
 * Node's own text ("ELOOP: too many symbolic links encountered, stat 'x'") is never shown: a code
 * without a sentence of ours gets the system's description alone, without Node's decoration.
 */
export function ioError(err: unknown, path: string, action: string): DiskError {
  const code = systemErrorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  const bare = raw.replace(/^[A-Z0-9_]+: /, '').replace(/, [a-z]+ '.*'$/s, '');
  return new DiskError(code, `cannot ${action} ${path}: ${IO_REASONS[code] ?? bare}`);
}
