import type { ByteReader } from './byte-reader.js';
import { decodeNtfsBoot, type NtfsBoot } from './ntfs-boot.js';
import { Directories } from './ntfs-dir.js';
import { asciiUpcase, NEEDS_UPCASE_TABLE, simpleUpcase, upcaseTable, type Upcase } from './ntfs-index.js';
import { dataSize, fileNames, openMft, type Mft, type NtfsFile } from './ntfs-mft.js';
import { AT, NAMESPACE, utf16 } from './ntfs-record.js';
import { unsupportedEncoding, type NtfsStream } from './ntfs-stream.js';
import { VolumeUnreadable } from './unreadable.js';

export interface NtfsDirEntry {
  /** The name as stored (the Win32 or POSIX name; a DOS 8.3 alias only when a lookup used it and nothing better exists). */
  name: string;
  isDirectory: boolean;
  /** Bytes in the unnamed $DATA stream (0 for directories). */
  size: number;
  /** MFT record number. */
  record: number;
}

export interface NtfsVolume {
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  totalClusters: number;
  totalBytes: number;
  mftRecordSize: number;
  indexRecordSize: number;
  label: string;
  /** 16 uppercase hex digits. */
  serialNumber: string;
  /**
   * Oddities that did not stop reading. Grows (without repeats, up to 100 lines) when a method
   * meets a single unreadable file, which that method then reports as absent or unreadable.
   */
  problems: string[];
  /*
   * Paths use \ or /, case-insensitively (by the volume's $UpCase), DOS 8.3 aliases included.
   * The methods throw VolumeUnreadable when a directory on the path (or $Bitmap) is damaged:
   * then nothing below it can be judged present or absent.
   */
  /** The directory's entries except itself (the root's "."); undefined when `path` is not a directory. */
  readDir(path: string): Promise<NtfsDirEntry[] | undefined>;
  stat(path: string): Promise<NtfsDirEntry | undefined>;
  exists(path: string): Promise<boolean>;
  /**
   * At most `maxBytes` (and never more than 1 GiB) of the file's unnamed $DATA; undefined for a
   * directory, a missing file, or one whose data cannot be read (compressed, encrypted, damaged).
   */
  readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /**
   * Free space counted from $Bitmap. With `enough`, counting may stop once that much is found:
   * the result is exact below `enough`, and at least `enough` otherwise.
   */
  freeBytes(enough?: number): Promise<number>;
}

const VOLUME = 3;
const ROOT = 5;
const BITMAP = 6;
const UPCASE = 10;
/** Deeper paths are no path a check asks about; refusing them bounds the walk. */
const MAX_PATH_DEPTH = 256;
/** Whatever the caller asks, one readFile allocates at most this much. */
const MAX_READ_BYTES = 1024 * 1024 * 1024;
const MAX_PROBLEMS = 100;
/** $Bitmap is counted in blocks of 4 KiB to 1 MiB, sized by how many free clusters are still missing. */
const BITMAP_BLOCK_MIN = 4096;
const BITMAP_BLOCK_MAX = 1024 * 1024;
const ZERO_BITS = Uint8Array.from({ length: 256 }, (_, v) => 8 - [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => v & (1 << i)).length);

/** Opens an NTFS volume read-only; throws VolumeUnreadable saying why when it cannot be read. */
export async function openNtfs(r: ByteReader): Promise<NtfsVolume> {
  const boot = decodeNtfsBoot(await r.read(0, 512));
  if (!boot.ok) throw new VolumeUnreadable(`not an NTFS volume: ${boot.reason}`);
  const problems = [...boot.problems];
  const volumeBytes = (boot.totalSectors + 1) * boot.bytesPerSector; // + the backup boot sector
  if (volumeBytes > r.size) problems.push(`the volume claims ${volumeBytes} bytes but the partition holds ${r.size}`);
  const mft = await openMft(r, boot, problems);
  return new NtfsReader(r, boot, mft, problems).volume();
}

const fail = (reason: string): never => {
  throw new VolumeUnreadable(reason);
};

class NtfsReader {
  /**
   * Directory lookups collate names through $UpCase (128 KiB). Most looked-up paths (\Windows,
   * \Recovery\WindowsRE) meet only ASCII names on their way, which fold the same without it, so
   * lookups start with ASCII folding and read the table only when a non-ASCII unit decides.
   */
  private readonly asciiDirs: Directories;
  private dirsLoaded?: Promise<Directories>;
  private bitmap?: NtfsStream;

  constructor(
    private readonly r: ByteReader,
    private readonly boot: NtfsBoot,
    private readonly mft: Mft,
    private readonly problems: string[],
  ) {
    this.asciiDirs = new Directories(mft, boot.clusterSize, asciiUpcase);
  }

  /** One lookup: with ASCII folding while it suffices, else with the volume's $UpCase. */
  private async lookup(dir: NtfsFile, name: string): Promise<Awaited<ReturnType<Directories['lookup']>>> {
    if (!this.dirsLoaded) {
      try {
        return await this.asciiDirs.lookup(dir, name);
      } catch (err) {
        if (err !== NEEDS_UPCASE_TABLE) throw err;
      }
    }
    return (await this.dirs()).lookup(dir, name);
  }

  async volume(): Promise<NtfsVolume> {
    const b = this.boot;
    const root = await this.mft.file(ROOT);
    if (!root.isDirectory) throw new VolumeUnreadable('MFT record 5 (the root directory) is not a directory');
    return {
      bytesPerSector: b.bytesPerSector,
      sectorsPerCluster: b.sectorsPerCluster,
      clusterSize: b.clusterSize,
      totalClusters: b.totalClusters,
      totalBytes: b.totalClusters * b.clusterSize,
      mftRecordSize: b.mftRecordSize,
      indexRecordSize: b.indexRecordSize,
      label: await this.label(),
      serialNumber: b.serialNumber,
      problems: this.problems,
      readDir: (path) => this.readDir(path),
      stat: async (path) => (await this.find(path))?.entry,
      exists: async (path) => (await this.find(path)) !== undefined,
      readFile: (path, maxBytes) => this.readFile(path, maxBytes),
      freeBytes: (enough) => this.freeBytes(enough),
    };
  }

  private dirs(): Promise<Directories> {
    this.dirsLoaded ??= this.loadUpcase().then((upcase) => new Directories(this.mft, this.boot.clusterSize, upcase));
    return this.dirsLoaded;
  }

  /** $UpCase folds names for collation; without it, lookups of non-ASCII names may miss. */
  private async loadUpcase(): Promise<Upcase> {
    try {
      const stream = this.mft.stream(await this.mft.file(UPCASE), AT.DATA);
      if (!stream || stream.dataSize !== 131072) throw new VolumeUnreadable(`$UpCase holds ${stream?.dataSize ?? 0} bytes, not 128 KiB`);
      return upcaseTable(await stream.read(0, 131072));
    } catch (err) {
      if (!(err instanceof VolumeUnreadable)) throw err;
      this.note(`$UpCase is unreadable (${err.reason}); names are compared with simple upper-casing`);
      return simpleUpcase;
    }
  }

  private async label(): Promise<string> {
    try {
      const name = (await this.mft.file(VOLUME)).attributes.find((a) => a.type === AT.VOLUME_NAME);
      return name?.resident ? utf16(name.value, 0, Math.min(128, name.value.length >> 1)) : '';
    } catch (err) {
      if (!(err instanceof VolumeUnreadable)) throw err;
      this.note(`the volume label is unreadable: ${err.reason}`);
      return '';
    }
  }

  /** A problem line, once: a checker asking twice about a bad file should not see it twice. */
  private note(line: string): void {
    if (this.problems.length < MAX_PROBLEMS && !this.problems.includes(line)) this.problems.push(line);
  }

  private entryOf(file: NtfsFile, name: string): NtfsDirEntry {
    return { name, isDirectory: file.isDirectory, size: file.isDirectory ? 0 : dataSize(file, this.boot.clusterSize), record: file.record };
  }

  /**
   * The file at `path`. A damaged directory on the way throws (nothing below it can be judged);
   * a damaged final file is recorded in `problems` and reads as absent.
   */
  private async find(path: string): Promise<{ file: NtfsFile; entry: NtfsDirEntry } | undefined> {
    const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
    if (parts.length > MAX_PATH_DEPTH) return undefined;
    let dir = await this.mft.file(ROOT);
    if (parts.length === 0) return { file: dir, entry: this.entryOf(dir, '') };
    for (let i = 0; i < parts.length; i++) {
      const entry = await this.lookup(dir, parts[i]!);
      if (!entry) return undefined;
      if (i < parts.length - 1) {
        dir = await this.mft.file(entry.record, entry.seq);
        if (!dir.isDirectory) return undefined;
        continue;
      }
      try {
        const file = await this.mft.file(entry.record, entry.seq);
        const stored = entry.key!.namespace === NAMESPACE.DOS ? (fileNames(file).find((n) => n.parent === dir.record)?.name ?? entry.key!.name) : entry.key!.name;
        return { file, entry: this.entryOf(file, stored) };
      } catch (err) {
        if (!(err instanceof VolumeUnreadable)) throw err;
        this.note(`${path}: ${err.reason}`);
        return undefined;
      }
    }
    return undefined;
  }

  private async readDir(path: string): Promise<NtfsDirEntry[] | undefined> {
    const found = await this.find(path);
    if (!found?.file.isDirectory) return undefined;
    const dir = found.file;
    const out: NtfsDirEntry[] = [];
    // Listing collates nothing, so it never needs $UpCase.
    for (const entry of await this.asciiDirs.entries(dir)) {
      // A DOS alias repeats a file already listed under its long name; the root lists itself as ".".
      if (entry.key!.namespace === NAMESPACE.DOS || entry.record === dir.record) continue;
      try {
        out.push(this.entryOf(await this.mft.file(entry.record, entry.seq), entry.key!.name));
      } catch (err) {
        if (!(err instanceof VolumeUnreadable)) throw err;
        this.note(`${path}\\${entry.key!.name}: ${err.reason}; size and type from the directory entry`);
        out.push({ name: entry.key!.name, isDirectory: (entry.key!.fileAttributes & 0x10000000) !== 0, size: entry.key!.dataSize, record: entry.record });
      }
    }
    return out;
  }

  private async readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const found = await this.find(path);
    if (!found || found.file.isDirectory) return undefined;
    const { file } = found;
    try {
      const data = file.attributes.filter((a) => a.type === AT.DATA && a.name === '');
      const unsupported = unsupportedEncoding(data);
      if (unsupported) throw new VolumeUnreadable(`its $DATA is ${unsupported}, which this reader does not decode`);
      const stream = this.mft.stream(file, AT.DATA);
      if (!stream) return new Uint8Array(0);
      return await stream.read(0, Math.max(0, Math.min(Math.floor(maxBytes) || 0, MAX_READ_BYTES, stream.dataSize)));
    } catch (err) {
      if (!(err instanceof VolumeUnreadable)) throw err;
      this.note(`${path}: ${err.reason}`);
      return undefined;
    }
  }

  /** Zero bits of $Bitmap for clusters 0 .. totalClusters-1 (bits past the last cluster are padding). */
  private async freeBytes(enough = Infinity): Promise<number> {
    const { totalClusters, clusterSize } = this.boot;
    const bitmap = (this.bitmap ??= this.mft.stream(await this.mft.file(BITMAP), AT.DATA) ?? fail('$Bitmap has no $DATA'));
    const bytes = Math.ceil(totalClusters / 8);
    if (bitmap.dataSize < bytes) throw new VolumeUnreadable(`$Bitmap holds ${bitmap.dataSize * 8} bits for ${totalClusters} clusters`);
    const wanted = Math.ceil(enough / clusterSize);
    let free = 0;
    for (let at = 0; at < bytes && free < wanted; ) {
      // As many bits as free clusters are still missing: if they are all free, this block is the last.
      const missing = Number.isFinite(wanted) ? Math.ceil((wanted - free) / 8) : Infinity;
      const length = Math.min(Math.max(BITMAP_BLOCK_MIN, missing), BITMAP_BLOCK_MAX, bytes - at);
      const block = await bitmap.read(at, length);
      for (let i = 0; i < block.length; i++) free += ZERO_BITS[block[i]!]!;
      at += length;
      if (at === bytes && totalClusters % 8 && block.length > 0) {
        const last = block[block.length - 1]!;
        const padding = (0xff << totalClusters % 8) & 0xff;
        free -= ZERO_BITS[last]! - ZERO_BITS[last | padding]!;
      }
    }
    return free * clusterSize;
  }
}
