import { open, type FileHandle } from 'node:fs/promises';
import { DiskError, type BlockSource, type SourceFormat } from './block-source.js';

/**
 * A raw image file (or anything Node can read by offset). Only the requested ranges are read,
 * so sparse multi-terabyte images cost nothing. Opened read-only unless `writable` is asked for.
 */
export class FileSource implements BlockSource {
  readonly format: SourceFormat = 'raw';
  private read_ = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
    readonly writable: boolean,
  ) {}

  static async open(path: string, options: { writable?: boolean } = {}): Promise<FileSource> {
    const writable = options.writable ?? false;
    let handle: FileHandle;
    try {
      handle = await open(path, writable ? 'r+' : 'r');
    } catch (err) {
      throw ioError(err, path, writable ? 'open for writing' : 'open');
    }
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw new DiskError('EISDIR', `${path} is a directory, not a disk image`);
    }
    return new FileSource(path, handle, stat.size, writable);
  }

  get bytesRead(): number {
    return this.read_;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const wanted = Math.max(0, Math.min(length, this.size - offset));
    const buffer = new Uint8Array(wanted);
    let done = 0;
    while (done < wanted) {
      const { bytesRead } = await this.handle.read(buffer, done, wanted - done, offset + done);
      if (bytesRead === 0) break; // the file shrank under us: hand back what exists
      done += bytesRead;
    }
    this.read_ += done;
    return done === wanted ? buffer : buffer.subarray(0, done);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Turns a Node I/O error into a DiskError with a stable code and a sentence a person can act on. */
export function ioError(err: unknown, path: string, action: string): DiskError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
  const reason: Record<string, string> = {
    ENOENT: 'no such file or device',
    EACCES: 'permission denied (run as root/Administrator, or check the file mode)',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a directory',
    EBUSY: 'the device is busy (mounted or held open by another program)',
    EROFS: 'the file system is read-only',
  };
  return new DiskError(code, `cannot ${action} ${path}: ${reason[code] ?? (err as Error)?.message ?? String(err)}`);
}
