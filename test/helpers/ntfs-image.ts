import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from './tools.js';

/**
 * Where things are in an NTFS image, for the NTFS reader's hostile and fuzz tests: the $MFT's
 * runlist as ntfsinfo prints it, record and inode numbers as ntfsls prints them, and small
 * independent re-implementations of the update-sequence fixups and the attribute walk, so that a
 * test can change a field and re-protect the record the way NTFS would have written it.
 */
export interface Geometry {
  clusterSize: number;
  recordSize: number;
  /** The $MFT's runs: [vcn, lcn, length] in clusters. */
  mftRuns: [number, number, number][];
}

export const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'make-ntfs-volume.sh');

/** Runs scripts/make-ntfs-volume.sh: an image of `sizeMiB` made by mkntfs and filled through ntfs-3g. */
export function makeVolume(img: string, sizeMiB: number, mkntfsArgs: string[] = [], env: Record<string, string> = {}): void {
  execFileSync('bash', [SCRIPT, img, String(sizeMiB), ...mkntfsArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** ntfsinfo's runlist table of the first attribute of `type` (e.g. "$DATA") in `text`. */
export function runlistFrom(text: string, type: string): [number, number, number][] {
  const at = text.indexOf(`Dumping attribute ${type} `);
  const lines = text.slice(at).split('\n');
  const runs: [number, number, number][] = [];
  let inTable = false;
  for (const line of lines) {
    if (/Runlist:\s+VCN/.test(line)) inTable = true;
    else if (inTable) {
      const m = /^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+|<HOLE>)\s+(0x[0-9a-f]+)\s*$/i.exec(line);
      if (!m) break;
      runs.push([Number(m[1]), m[2] === '<HOLE>' ? -1 : Number(m[2]), Number(m[3])]);
    }
  }
  return runs;
}

export function geometry(img: string): Geometry {
  const info = run('ntfsinfo', ['-m', img]);
  const num = (label: string): number => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(info)![1]);
  return { clusterSize: num('Cluster Size'), recordSize: num('MFT Record Size'), mftRuns: runlistFrom(run('ntfsinfo', ['-v', '-i', '0', img]), '$DATA') };
}

/** Byte offset of MFT record `n` in the image (records do not straddle runs on the volumes here). */
export function recordOffset(g: Geometry, n: number): number {
  const byte = n * g.recordSize;
  for (const [vcn, lcn, length] of g.mftRuns) {
    if (byte >= vcn * g.clusterSize && byte < (vcn + length) * g.clusterSize) return lcn * g.clusterSize + byte - vcn * g.clusterSize;
  }
  throw new Error(`record ${n} is not in the $MFT's runs`);
}

/** Inode numbers of a directory's entries, as ntfsls -i prints them. */
export function inodes(img: string, dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of run('ntfsls', ['-a', '-s', '-i', '-p', dir, img]).split('\n')) {
    const m = /^\s*(\d+)\s+(.+)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

/** The update sequence array's offset, when it lies inside the structure's first 512 bytes (a fuzzed one may not). */
function usaOf(view: Buffer, at: number, size: number): number | undefined {
  const usa = view.readUInt16LE(at + 4);
  return usa + (size / 512 + 1) * 2 <= 512 ? at + usa : undefined;
}

/** Puts the saved bytes back at the end of every 512-byte stride of the structure at `at`. */
export function unfix(b: Uint8Array, at: number, size: number): void {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const usa = usaOf(view, at, size);
  if (usa === undefined) return;
  for (let i = 1; i <= size / 512; i++) view.writeUInt16LE(view.readUInt16LE(usa + i * 2), at + i * 512 - 2);
}

/** Saves the last two bytes of every stride into the array and writes the sequence number there. */
export function refix(b: Uint8Array, at: number, size: number): void {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const usa = usaOf(view, at, size);
  if (usa === undefined) return;
  const usn = view.readUInt16LE(usa);
  for (let i = 1; i <= size / 512; i++) {
    view.writeUInt16LE(view.readUInt16LE(at + i * 512 - 2), usa + i * 2);
    view.writeUInt16LE(usn, at + i * 512 - 2);
  }
}

/** Edits the structure at `at` with its fixups undone, then protects it again. */
export function editFixed(b: Uint8Array, at: number, size: number, edit: (view: Buffer) => void): void {
  unfix(b, at, size);
  edit(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  refix(b, at, size);
}

export interface AttributeAt {
  type: number;
  /** Byte offset of the attribute header in the image. */
  at: number;
  length: number;
  nonResident: boolean;
  /** Offset of the value (resident) or the mapping pairs (non-resident) in the image. */
  body: number;
}

/** The attributes of the (fixed-up, i.e. unfix()ed) record at `recordAt`, as far as they stay inside its `size` bytes. */
export function attributesOf(b: Uint8Array, recordAt: number, size = 1024): AttributeAt[] {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: AttributeAt[] = [];
  for (let at = recordAt + view.readUInt16LE(recordAt + 0x14); at + 0x48 <= recordAt + size && view.readUInt32LE(at) !== 0xffffffff && out.length < 64; ) {
    const length = view.readUInt32LE(at + 4);
    if (length < 0x18 || at + length > recordAt + size) break;
    const nonResident = view[at + 8] === 1;
    out.push({ type: view.readUInt32LE(at), at, length, nonResident, body: at + (nonResident ? view.readUInt16LE(at + 0x20) : view.readUInt16LE(at + 0x14)) });
    at += length;
  }
  return out;
}

/** Reads the attributes of record `n` (undoing and redoing its fixups around the walk). */
export function recordAttributes(b: Uint8Array, g: Geometry, n: number): AttributeAt[] {
  const at = recordOffset(g, n);
  unfix(b, at, g.recordSize);
  try {
    return attributesOf(b, at, g.recordSize);
  } finally {
    refix(b, at, g.recordSize);
  }
}

export interface RunAt {
  /** Image offset of the run's header byte, and of its LCN offset field. */
  at: number;
  offsetAt: number;
  offsetWidth: number;
  lcn: number;
  length: number;
}

/** The runs of the mapping pairs at `pairs` (a record whose fixups are undone, or whose runs lie in one stride). */
export function runsAt(b: Uint8Array, pairs: number): RunAt[] {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: RunAt[] = [];
  let lcn = 0;
  for (let at = pairs; b[at] !== 0 && out.length < 4096; ) {
    const lengthWidth = b[at]! & 15;
    const offsetWidth = b[at]! >> 4;
    const length = view.readUIntLE(at + 1, lengthWidth);
    if (offsetWidth > 0) lcn += view.readIntLE(at + 1 + lengthWidth, offsetWidth);
    out.push({ at, offsetAt: at + 1 + lengthWidth, offsetWidth, lcn, length });
    at += 1 + lengthWidth + offsetWidth;
  }
  return out;
}

/** Offsets of cluster-aligned INDX blocks in the image whose entries name `parent` as their directory. */
export function indexBlocksOf(b: Uint8Array, clusterSize: number, blockSize: number, parent: number): number[] {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const step = Math.min(clusterSize, blockSize);
  const out: number[] = [];
  for (let at = 0; at + blockSize <= b.length; at += step) {
    if (view.toString('latin1', at, at + 4) !== 'INDX') continue;
    const first = at + 0x18 + view.readUInt32LE(at + 0x18);
    if (view.readUInt32LE(first + 16) === parent) out.push(at);
  }
  return out;
}
