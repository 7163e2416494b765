import { statSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { DiskError, type BlockSource, type ReadableDisk } from './block-source.js';
import { DeviceSource } from './device-source.js';
import { CompressedView } from './compressed-view.js';
import { compressionOf, decompressToTemp, type Compression, type DecompressProgress } from './decompress.js';
import { FileSource, ioError } from './file-source.js';
import { HttpSource, httpOptions } from './http-source.js';
import type { HttpOptions } from './http-client.js';
import { HttpView } from './http-view.js';
import { displayPath, isHttpUrl } from './url-redact.js';
import { Qcow2Source } from './qcow2.js';
import { VhdSource } from './vhd.js';
import { VhdxSource } from './vhdx.js';
import { VmdkSource } from './vmdk.js';
import { VMDK_DESCRIPTOR_MAGIC } from './vmdk-descriptor.js';
import { isSeSparseExtent } from './vmdk-sesparse.js';
import { isWindowsDevicePath } from './device-path.js';
import { parentCandidates } from './differencing.js';
import { startsWithGptHeader, unreadableFormat } from './signatures.js';

export interface OpenOptions {
  /** Open for writing; read-only commands never set this. */
  writable?: boolean;
  /** Backing files already open above this one (loop detection), for qcow2/VMDK chains. */
  chain?: readonly string[];
  /**
   * The parent of a differencing VHD/VHDX or a VMDK snapshot (--parent), instead of the paths the
   * child stores; it must still prove to be the parent (Unique Id, DataWriteGuid, CID).
   */
  parent?: string;
  /** Told how a compressed image's decompression goes (a progress line on a terminal). */
  progress?: DecompressProgress;
  /** Timeout and retries of http(s):// disks (default: httpOptions(), from the environment). */
  http?: HttpOptions;
}

/** Backing-file chains deeper than this are refused (and loops always are). */
const MAX_CHAIN = 16;

/**
 * The smallest disk a GPT fits on, at 512 bytes per sector: the protective MBR, the primary
 * header, a one-sector entry array, one usable sector, the backup array and the backup header.
 * A raw file smaller than this cannot hold a GPT; containers are judged by their own size.
 */
export const MIN_GPT_DISK_BYTES = 6 * 512;

/**
 * Why a path is no disk at all, judged before anything opens it: opening a FIFO would block until
 * a writer comes, and a character device such as /dev/zero reads forever. macOS's raw disks
 * (/dev/rdiskN) are the one kind of character device that is a disk.
 */
function notADisk(path: string, info: Stats): string | undefined {
  if (info.isFIFO()) return `${path} is a FIFO (named pipe), not a disk`;
  if (info.isSocket()) return `${path} is a socket, not a disk`;
  if (info.isCharacterDevice() && !(process.platform === 'darwin' && /^\/dev\/rdisk\d+$/.test(path))) return `${path} is a character device, not a disk`;
  return undefined;
}

/** Container signatures, checked by content and never by file extension. */
export type ContainerKind = 'raw' | 'vhdx' | 'vhd-dynamic' | 'vhd-fixed' | 'qcow2' | 'vmdk';

export function sniffContainer(head: Uint8Array, tail: Uint8Array): ContainerKind {
  const ascii = (b: Uint8Array, from: number, len: number): string => String.fromCharCode(...b.subarray(from, from + len));
  if (ascii(head, 0, 8) === 'vhdxfile') return 'vhdx';
  if (ascii(head, 0, 8) === 'conectix') return 'vhd-dynamic';
  if (head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb) return 'qcow2';
  if (ascii(head, 0, 4) === 'KDMV' || isSeSparseExtent(head) || ascii(head, 0, VMDK_DESCRIPTOR_MAGIC.length) === VMDK_DESCRIPTOR_MAGIC) return 'vmdk';
  // A fixed VHD is raw data with a 512-byte footer (older tools: 511) at the very end.
  if (ascii(tail, tail.length - 512, 8) === 'conectix' || ascii(tail, tail.length - 511, 8) === 'conectix') return 'vhd-fixed';
  return 'raw';
}

const CONTAINER_NAMES: Record<ContainerKind, string> = {
  raw: 'raw image',
  vhdx: 'VHDX',
  'vhd-dynamic': 'dynamic VHD',
  'vhd-fixed': 'fixed VHD',
  qcow2: 'qcow2',
  vmdk: 'VMDK',
};

/**
 * Opens a disk image or device and returns the BlockSource for the virtual disk inside it.
 * VHD (fixed, dynamic, differencing), VHDX, qcow2 (with backing files) and VMDK (every hosted
 * layout, snapshots) are read through their
 * own backends; what they cannot read fails with a clear EFORMAT error, never misread as raw.
 * An http:// or https:// URL is read by byte ranges (disk/http-source.ts), read-only.
 */
export async function openDisk(path: string, options: OpenOptions = {}): Promise<BlockSource> {
  if (isHttpUrl(path)) return openHttpDisk(path, options);
  if (isWindowsDevicePath(path)) return DeviceSource.open(path, options);
  let info;
  try {
    info = statSync(path); // synchronous: a promise round trip costs ~20x the syscall, per image of a scan
  } catch (err) {
    throw ioError(err, path, 'open');
  }
  if (info.isDirectory()) throw new DiskError('EISDIR', `${path} is a directory, not a disk image`);
  const notDisk = notADisk(path, info);
  if (notDisk) throw new DiskError('ENOTDISK', notDisk);
  if (info.isBlockDevice() || info.isCharacterDevice()) return DeviceSource.open(path, options);
  return openImageFile(await FileSource.open(path, options), { path, options });
}

/**
 * A disk on an HTTP(S) server, recognised by content like a file: raw, a container, compressed.
 * Never written: a write command is told to download it first, or to write a repaired copy.
 */
async function openHttpDisk(url: string, options: OpenOptions): Promise<BlockSource> {
  const path = displayPath(url);
  if (options.writable) throw new DiskError('EROFS', `${path} is read over HTTP(S), and gptdoctor never writes there: download the image first, or write a repaired copy with --output FILE`);
  const remote = await HttpSource.open(url, httpOptions(options.http));
  const disk = await openImageFile(remote, { path, options, remote: true });
  return disk === remote ? remote : new HttpView(disk, remote);
}

/** What openImageFile knows of the file it sniffs besides its bytes. */
interface ImageContext {
  /** The name shown (a URL without its query). */
  path: string;
  options: OpenOptions;
  /** Set when the file is the decompressed copy of an image compressed this way. */
  compressed?: Compression;
  /** Read over HTTP(S): nothing beside it (a parent, a backing file, an extent) can be found. */
  remote?: boolean;
}

/**
 * Sniffs an open image file (a local file, a decompressed copy, an object over HTTP) and returns
 * the disk inside it. A decompressed copy's contents are judged again, so a container inside
 * compression is read through its own reader.
 */
async function openImageFile(file: ReadableDisk, context: ImageContext): Promise<BlockSource> {
  const { path, options, compressed } = context;
  try {
    const head = await file.read(0, 1024);
    const packed = compressionOf(head);
    if (packed) {
      if (compressed) throw new DiskError('EFORMAT', `${path} is ${packed}-compressed inside ${compressed}: decompress it first`);
      if (options.writable) throw new DiskError('EROFS', `${path} is ${packed}-compressed: write a repaired copy with --output FILE, or decompress it first`);
      const inner = await decompressToTemp(file, packed, options.progress).finally(() => file.close());
      return new CompressedView(await openImageFile(inner, { ...context, compressed: packed }), packed);
    }
    // Only now the tail (a fixed VHD's footer): over HTTP it is a request of its own.
    const tail = file.size >= 1024 ? await file.read(file.size - 512, 512) : new Uint8Array(0);
    const kind = sniffContainer(head, tail);
    // A clipped image that still holds a GPT header at LBA 1 is evidence, however short.
    if (kind === 'raw' && file.size < MIN_GPT_DISK_BYTES && !startsWithGptHeader(head.subarray(512))) {
      const is = compressed ? `decompresses to ${file.size === 0 ? 'nothing' : `${file.size} bytes`}` : file.size === 0 ? 'is empty' : `is ${file.size} bytes`;
      throw new DiskError('ENOTDISK', `${path} ${is}${file.size ? `, smaller than the smallest GPT disk (${MIN_GPT_DISK_BYTES} bytes):` : ','} not a disk image`);
    }
    if (kind === 'raw') {
      const unreadable = unreadableFormat(head, tail);
      if (unreadable && !startsWithGptHeader(head.subarray(512), await file.read(4096, 8))) throw new DiskError('EFORMAT', `${path}${compressed ? ` (decompressed)` : ''} is ${unreadable}`);
      return file;
    }
    if ((kind === 'qcow2' || kind === 'vmdk') && options.writable) {
      throw new DiskError('EROFS', `${path} is a ${CONTAINER_NAMES[kind]} image, which gptdoctor reads but does not write; write a repaired raw copy with --output FILE`);
    }
    if (context.remote && kind === 'vmdk' && startsWithText(head, VMDK_DESCRIPTOR_MAGIC)) {
      throw new DiskError('ENOTSUP', `${path} is a VMDK descriptor read over HTTP(S): the extent files it names are not fetched from beside it; download the descriptor and its extents`);
    }
    // What a reader did not foresee is a bug in gptdoctor (EINTERNAL, "please report"), not a
    // damaged container: the readers check every field they use, as the fuzz tests prove.
    if (kind === 'qcow2') return await Qcow2Source.open(file, (backing) => (context.remote ? refuseRemoteBacking(path, backing) : openBacking(path, backing, options.chain ?? [], options.http)));
    const openParent = (stored: readonly string[]): Promise<BlockSource> => openDifferencingParent(path, stored, options, context.remote);
    if (kind === 'vmdk') return await VmdkSource.open(file, openParent);
    return kind === 'vhdx' ? await VhdxSource.open(file, openParent) : await VhdSource.open(file, openParent);
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
}

function startsWithText(bytes: Uint8Array, text: string): boolean {
  return String.fromCharCode(...bytes.subarray(0, text.length)) === text;
}

/** A qcow2 over HTTP(S) whose backing file would be looked for beside it: refused, not guessed. */
function refuseRemoteBacking(child: string, backing: string): never {
  const name = backing.slice(backing.lastIndexOf('/') + 1);
  throw new DiskError('ENOTSUP', `${child} is a qcow2 image with a backing file ("${name}") and is read over HTTP(S), where its backing file is not fetched from beside it; download both, or convert it to a standalone image (qemu-img convert)`);
}

/**
 * The parent of a differencing disk: --parent when given, else the first of the paths the child
 * stores that exists here (see parentCandidates).
 */
async function openDifferencingParent(child: string, stored: readonly string[], options: OpenOptions, remote = false): Promise<BlockSource> {
  const chain = options.chain ?? [];
  if (options.parent) return openBacking(child, options.parent, chain, options.http);
  if (remote) throw new DiskError('ENOTSUP', `${child} is a differencing disk read over HTTP(S), and its parent is not looked for beside it${namedParents(stored)}: give the parent with --parent PATH or URL`);
  const candidates = parentCandidates(child, stored);
  for (const candidate of candidates) {
    if (await stat(candidate).then(() => true, () => false)) return openBacking(child, candidate, chain, options.http);
  }
  throw new DiskError('ENOENT', `${child} is a differencing disk and its parent was not found${namedParents(stored)}; give it with --parent PATH`);
}

/** " (it names "a", "b")": the parent paths a child stores, for a message. */
function namedParents(stored: readonly string[]): string {
  // A damaged header may name garbage: show printable text only, and not much of it.
  const printable = (p: string): string => {
    const text = p.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
    return text.length > 120 ? `${text.slice(0, 120)}…` : text;
  };
  const names = stored.map((p) => p.replace(/\0+$/, '').trim()).filter(Boolean);
  return names.length ? ` (it names ${names.slice(0, 3).map((p) => `"${printable(p)}"`).join(', ')})` : '';
}

/**
 * Opens a backing file read-only, refusing loops and absurdly deep chains. `backing` may be a URL
 * (--parent https://…), shown without its query.
 */
async function openBacking(child: string, backing: string, chain: readonly string[], http?: HttpOptions): Promise<BlockSource> {
  const seen = [...chain, await realpath(child).catch(() => child)];
  const real = isHttpUrl(backing) ? displayPath(backing) : await realpath(backing).catch(() => backing);
  const shown = displayPath(backing);
  if (seen.includes(real)) throw new DiskError('EFORMAT', `${child}: its backing chain loops back to ${shown}`);
  if (seen.length >= MAX_CHAIN) throw new DiskError('EFORMAT', `${child}: the backing chain is deeper than ${MAX_CHAIN} images`);
  try {
    return await openDisk(backing, { chain: seen, ...(http ? { http } : {}) });
  } catch (err) {
    if (err instanceof DiskError && err.code === 'ENOENT') throw new DiskError('ENOENT', `${child}: its backing file ${shown} is missing`);
    // A stored name such as "." or "" resolves to the child's directory: the child is damaged.
    if (err instanceof DiskError && err.code === 'EISDIR') throw new DiskError('EFORMAT', `${child}: its backing file ${shown} is a directory, not a disk image`);
    throw err;
  }
}
