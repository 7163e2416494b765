import { crc32c } from '../gpt/crc32.js';
import { decodeGuid } from '../gpt/guid.js';
import type { ReadableDisk } from './block-source.js';
import { dataSectorProblem, logDescriptorProblem, logEntryProblem } from './vhdx-rules.js';

/**
 * VHDX log replay into memory ([MS-VHDX] §2.3): find the active sequence of log entries and
 * turn its descriptors into 4 KiB file blocks that overlay the file for every later read. The
 * file itself is never written, so a forensic image stays untouched.
 */
const SECTOR = 4096;
const MAX_OVERLAY = 256 * 1024 * 1024;

export interface LogReplay {
  /** 4 KiB-aligned file offset → the block's bytes after replay. */
  overlay: Map<number, Uint8Array>;
  entries: number;
  descriptors: number;
  /** The file must be at least this long after replay. */
  lastFileOffset: number;
}

interface Entry {
  offset: number;
  length: number;
  tail: number;
  sequence: bigint;
  bytes: Uint8Array;
  flushedFileOffset: number;
  lastFileOffset: number;
}

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Reads `length` bytes of the circular log starting at `at`, wrapping at its end. */
async function readLog(file: ReadableDisk, logOffset: number, logLength: number, at: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const pos = (at + done) % logLength;
    const take = Math.min(length - done, logLength - pos);
    out.set(await file.read(logOffset + pos, take), done);
    done += take;
  }
  return out;
}

async function entryAt(file: ReadableDisk, logOffset: number, logLength: number, at: number, logGuid: string): Promise<Entry | undefined> {
  const head = await readLog(file, logOffset, logLength, at, SECTOR);
  const v = dv(head);
  if (String.fromCharCode(...head.subarray(0, 4)) !== 'loge') return undefined;
  const length = v.getUint32(8, true);
  if (length < SECTOR || length % SECTOR !== 0 || length > logLength) return undefined;
  if (decodeGuid(head, 32) !== logGuid) return undefined;
  const bytes = await readLog(file, logOffset, logLength, at, length);
  const check = bytes.slice();
  check.fill(0, 4, 8);
  if (crc32c(check) !== v.getUint32(4, true)) return undefined;
  const sequence = v.getBigUint64(16, true);
  if (sequence === 0n) return undefined;
  return { offset: at, length, tail: v.getUint32(12, true), sequence, bytes, flushedFileOffset: Number(v.getBigUint64(48, true)), lastFileOffset: Number(v.getBigUint64(56, true)) };
}

/**
 * Replays the log named by `logGuid`. Returns undefined when no valid sequence exists (the file
 * is then corrupt and must not be read); throws on descriptors that do not check out.
 */
export async function replayLog(file: ReadableDisk, logOffset: number, logLength: number, logGuid: string): Promise<LogReplay | undefined> {
  if (logLength < SECTOR || logLength % SECTOR !== 0 || logOffset + logLength > file.size) return undefined;
  const cache = new Map<number, Entry | undefined>();
  const at = async (pos: number): Promise<Entry | undefined> => {
    if (!cache.has(pos)) cache.set(pos, await entryAt(file, logOffset, logLength, pos, logGuid));
    return cache.get(pos);
  };
  let best: Entry[] | undefined;
  for (let start = 0; start < logLength; start += SECTOR) {
    const chain: Entry[] = [];
    for (let pos = start, e = await at(pos); e && chain.length * SECTOR < logLength; ) {
      if (chain.length && e.sequence !== chain.at(-1)!.sequence + 1n) break;
      chain.push(e);
      pos = (pos + e.length) % logLength;
      e = await at(pos);
    }
    if (!chain.length) continue;
    const head = chain.at(-1)!;
    const tailIndex = chain.findIndex((e) => e.offset === head.tail);
    if (tailIndex === -1) continue; // the head's tail must lie in the chain
    const sequence = chain.slice(tailIndex);
    if (!best || head.sequence > best.at(-1)!.sequence) best = sequence;
  }
  if (!best) return undefined;
  const overlay = new Map<number, Uint8Array>();
  let descriptors = 0;
  for (const e of best) {
    const problem = logEntryProblem(e, file.size);
    if (problem) throw new Error(problem);
    descriptors += applyEntry(e, overlay);
  }
  return { overlay, entries: best.length, descriptors, lastFileOffset: best.at(-1)!.lastFileOffset };
}

/**
 * Every zeroed block of the overlay is this one array, never written: a zero descriptor costs a
 * map entry per 4 KiB, not 4 KiB of memory.
 */
const ZERO_BLOCK = new Uint8Array(SECTOR);

/** Applies one entry's zero and data descriptors to the overlay; returns how many it had. */
function applyEntry(e: Entry, overlay: Map<number, Uint8Array>): number {
  const v = dv(e.bytes);
  const count = v.getUint32(24, true);
  const descriptorSectors = count <= 126 ? 1 : 1 + Math.ceil((count - 126) / 128);
  let dataSector = descriptorSectors;
  for (let i = 0; i < count; i++) {
    const d = 64 + i * 32;
    if (d + 32 > e.bytes.length) throw new Error('log entry descriptors run past the entry');
    const kind = String.fromCharCode(...e.bytes.subarray(d, d + 4));
    const fileOffset = Number(v.getBigUint64(d + 16, true));
    if (v.getBigUint64(d + 24, true) !== e.sequence) throw new Error('a log descriptor belongs to another sequence');
    if (kind === 'zero' || kind === 'desc') {
      const problem = logDescriptorProblem(kind, fileOffset, kind === 'zero' ? Number(v.getBigUint64(d + 8, true)) : SECTOR);
      if (problem) throw new Error(problem);
    }
    if (kind === 'zero') {
      const length = Number(v.getBigUint64(d + 8, true));
      // The cap is on the whole overlay, not per descriptor: eight descriptors of 256 MiB are 2 GiB.
      if (length > MAX_OVERLAY || (overlay.size + length / SECTOR) * SECTOR > MAX_OVERLAY) throw new Error('the log zeroes more than 256 MiB, which no metadata update needs');
      for (let o = 0; o < length; o += SECTOR) overlay.set(fileOffset + o, ZERO_BLOCK);
    } else if (kind === 'desc') {
      const data = e.bytes.subarray(dataSector * SECTOR, (dataSector + 1) * SECTOR);
      if (data.length < SECTOR || String.fromCharCode(...data.subarray(0, 4)) !== 'data') throw new Error('a log data sector is missing');
      const sequenceProblem = dataSectorProblem(data, e.sequence);
      if (sequenceProblem) throw new Error(sequenceProblem);
      const block = new Uint8Array(SECTOR);
      block.set(e.bytes.subarray(d + 8, d + 16), 0); // leading bytes 0..7
      block.set(data.subarray(8, 4092), 8);
      block.set(e.bytes.subarray(d + 4, d + 8), 4092); // trailing bytes 4092..4095
      if (overlay.size * SECTOR >= MAX_OVERLAY) throw new Error('the log rewrites more than 256 MiB, which no metadata update needs');
      overlay.set(fileOffset, block);
      dataSector++;
    } else {
      throw new Error(`unknown log descriptor "${kind}"`);
    }
  }
  return count;
}

/** A reader that sees the replayed log over the file. */
export function overlayReader(file: ReadableDisk, replay: LogReplay): Pick<ReadableDisk, 'read' | 'path' | 'size'> {
  return {
    path: file.path,
    size: Math.max(file.size, replay.lastFileOffset),
    read: async (offset: number, length: number): Promise<Uint8Array> => {
      const out = new Uint8Array(length);
      out.set(await file.read(offset, length));
      for (let block = Math.floor(offset / SECTOR) * SECTOR; block < offset + length; block += SECTOR) {
        const bytes = replay.overlay.get(block);
        if (!bytes) continue;
        const from = Math.max(block, offset);
        const to = Math.min(block + SECTOR, offset + length);
        out.set(bytes.subarray(from - block, to - block), from - offset);
      }
      return out;
    },
  };
}
