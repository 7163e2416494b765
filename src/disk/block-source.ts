/**
 * A BlockSource is the only way gptdoctor touches a disk: raw image files, virtual-disk
 * containers and native devices all present the same byte-addressed view of the *virtual*
 * disk. Reads are explicit and small, so a 2 TiB sparse image costs only the sectors asked for.
 */
export type SourceFormat = 'raw' | 'vhd' | 'vhdx' | 'qcow2' | 'vmdk' | 'device' | 'memory';

/**
 * A disk gptdoctor can read: the virtual disk of an image file, a container, a decompressed
 * copy, an object on an HTTP(S) server or a device. Container readers take any readable disk, so
 * containers compose (a VHDX inside a decompressed file, a VHD on a web server).
 */
export interface ReadableDisk {
  /** What the user named (path or device). */
  readonly path: string;
  readonly format: SourceFormat;
  /** Size of the virtual disk in bytes. */
  readonly size: number;
  /**
   * Logical sector size the container or device declares (VHDX metadata, BLKSSZGET, …).
   * Undefined for raw image files, where only the GPT itself can tell.
   */
  readonly declaredSectorSize?: number;
  /** Physical sector size, where the container or device declares one. */
  readonly physicalSectorSize?: number;
  /** Container facts worth showing (VHD: Current Size against the CHS size, creator…). */
  readonly containerInfo?: Readonly<Record<string, string | number>>;
  /** False for disks opened read-only (and for formats that are never written). */
  readonly writable: boolean;
  /**
   * Why this disk can never be written in place, whatever it was opened for: a compressed
   * image, or a format gptdoctor only reads. Write commands then offer `--output FILE` (a repaired
   * raw copy) instead, before any plan is shown.
   */
  readonly readOnlyReason?: string;
  /**
   * Reads `length` bytes at `offset`. The result is shorter than `length` only when the
   * range runs past the end of the disk (it is empty when `offset >= size`).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * The [start, end) byte ranges that hold data; a sparse image's holes are left out, so that a
   * whole-disk hunt never reads them. Disks that cannot tell give one range over everything.
   */
  dataRanges?(): Promise<Array<[number, number]>>;
  /**
   * Reads into `target` at `offset` and returns how many bytes were read (fewer only at the end
   * of the disk). Disks that can read in place offer it, so that a whole-disk pass (the recover
   * hunt) reuses one buffer: allocating and zeroing 1 GiB of fresh buffers costs more than
   * reading it from the page cache.
   */
  readInto?(target: Uint8Array, offset: number): Promise<number>;
  /**
   * A search over this disk's bytes that runs in the native addon (native/src/search.rs): the
   * recover hunt's pass, which then maps each stretch (Linux) or reads it in pieces that stay in
   * the CPU's cache, instead of copying 4 MiB chunks into JS. Local image files offer one on Unix
   * where the addon loads; undefined otherwise, and the hunt reads chunks itself.
   */
  signatureSearcher?(): Promise<SignatureSearcher | undefined>;
  close(): Promise<void>;
  /** Bytes handed out by read() so far: used by tests and benchmarks to prove we read little. */
  readonly bytesRead: number;
  /**
   * The whole disk front to back, for a reader that takes every byte once (decompression); a
   * network source sends few large requests for it instead of many reads. Absent: read() in pieces.
   */
  stream?(): AsyncIterable<Uint8Array>;
  /** Disks read over a network (HTTP(S)): requests sent so far, retries included. */
  readonly requests?: number;
  /** Disks read over a network: response body bytes received so far (what the reads cost). */
  readonly bytesTransferred?: number;
}

/** What a SignatureSearcher looks for in [from, to) of a disk. */
export interface SignatureSearch {
  from: number;
  to: number;
  signature: Uint8Array;
  /** Signatures count only at multiples of this. */
  step: number;
  /** Bytes handed back from each signature on (fewer at the disk's end). */
  hitLength: number;
  /** The bytes at each multiple of probeEvery are handed back, probeLength of them, when whole. */
  probeEvery: number;
  probeLength: number;
  /** The search may stop early, after the piece in which this many signatures were found. */
  maxHits: number;
}

export interface SignatureFinds {
  /** Where the search stopped: `to`, or earlier after maxHits (search again from here). */
  end: number;
  /** The disk ended before its size: the file shrank after it was opened. */
  short?: boolean;
  hits: Array<{ position: number; bytes: Uint8Array }>;
  probes: Array<{ offset: number; bytes: Uint8Array }>;
}

export type SignatureSearcher = (search: SignatureSearch) => Promise<SignatureFinds>;

/** A disk opened for writing: what write/ (the write protocol) takes, and nothing less. */
export interface WritableDisk extends ReadableDisk {
  /** Writes whole buffers. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes earlier writes durable (fsync / FlushFileBuffers). */
  flush(): Promise<void>;
  /**
   * Why bytes at [offset, offset + length) cannot be written in place, or undefined when they
   * can. Containers answer this (a VHDX block that is not allocated, say) so that a plan is
   * refused before its first byte is written.
   */
  whyNotWritable?(offset: number, length: number): Promise<string | undefined>;
  /**
   * Container bytes a write session changes besides the virtual disk (the VHDX headers), as
   * file offsets and their current contents, so the undo journal can restore the file exactly.
   */
  containerState?(): Promise<Array<{ fileOffset: number; bytes: Uint8Array }>>;
}

/** A device the OS partitions: it can be told of a new table. */
export interface DeviceControl {
  /**
   * Makes the OS read the (new) partition table, whose partitions are `table` (number = GPT
   * slot, byte extents), used where the OS must be told partition by partition.
   */
  rereadPartitionTable(table: PartitionExtent[]): Promise<RereadResult>;
}

/**
 * What openDisk returns: a readable disk that may also write (when opened for it) and may control
 * a device. Code that writes narrows it with `asWritable` (write/), never with `!`.
 */
export type BlockSource = ReadableDisk & Partial<Omit<WritableDisk, keyof ReadableDisk>> & Partial<DeviceControl>;

/** True when `disk` was opened for writing and can write and flush. */
export function canWrite(disk: BlockSource): disk is BlockSource & WritableDisk {
  return disk.writable && typeof disk.write === 'function' && typeof disk.flush === 'function';
}

/** `disk` as a writable disk, or EROFS: the one place a disk opened for writing is proven so. */
export function writableDisk(disk: BlockSource): WritableDisk {
  if (!canWrite(disk)) throw new DiskError('EROFS', `${disk.path} is not open for writing`);
  return disk;
}

/** One partition of a new table: its number (GPT slot) and byte extent. */
export interface PartitionExtent {
  number: number;
  start: number;
  length: number;
}

/**
 * How the OS learnt of a new table: 'reread' (the whole table), 'blkpg' (Linux, partition by
 * partition because one is open: `changes` done, `failures` not), 'none' (an image file).
 */
export interface RereadResult {
  method: 'none' | 'reread' | 'blkpg';
  changes: string[];
  failures: string[];
}

/**
 * Every code a DiskError carries (docs/ARCHITECTURE.md §6; README, JSON output). System errors
 * keep their errno name where it is one of these; any other becomes EIO (see systemErrorCode).
 */
export const DISK_ERROR_CODES = [
  // the path and the file system
  'ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EEXIST', 'ENOSPC', 'EMFILE', 'ENFILE',
  // the disk
  'EBUSY', 'EROFS', 'ENXIO', 'ENODEV', 'EIO', 'ENOADDON',
  // what gptdoctor judges
  'ENOTDISK', 'EFORMAT', 'ENOTSUP', 'ECHANGED', 'EINVAL',
] as const;
export type DiskErrorCode = (typeof DISK_ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(DISK_ERROR_CODES);

/** A system error's code as a DiskErrorCode: its own errno name where listed, else EIO. */
export function systemErrorCode(err: unknown): DiskErrorCode {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code !== undefined && KNOWN_CODES.has(code) ? (code as DiskErrorCode) : 'EIO';
}

/** An error gptdoctor expects and explains; the CLI prints `message` and exits 2, never a stack. */
export class DiskError extends Error {
  constructor(
    /** Stable machine-readable code, one of DISK_ERROR_CODES. */
    readonly code: DiskErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DiskError';
  }
}
