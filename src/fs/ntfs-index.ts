import { u16, u32 } from '../gpt/le.js';
import { applyFixups, decodeFileName, mftRef, s64, type FileName } from './ntfs-record.js';

/**
 * Directory indexes ($I30): the $INDEX_ROOT value, INDX blocks of $INDEX_ALLOCATION, the entries
 * of one node, and the collation that orders them (names compared code unit by code unit after
 * upcasing through the volume's $UpCase table, shorter first on a tie). Pure and bounded.
 */

export interface IndexEntry {
  record: number;
  seq: number;
  /** The $FILE_NAME key; absent on a node's last (end) entry. */
  key?: FileName;
  /** VCN of the child node holding the names that sort before this entry. */
  subNode?: number;
}

export interface IndexNode {
  entries: IndexEntry[];
}

export interface IndexRoot {
  blockSize: number;
  node: IndexNode;
}

type Result<T> = ({ ok: true } & T) | { ok: false; reason: string };

const COLLATION_FILE_NAME = 1;
const ENTRY_HAS_SUB_NODE = 0x01;
const ENTRY_LAST = 0x02;
/** Exact for any u32 (bitwise tricks would wrap above 2^31). */
const isPow2 = (n: number): boolean => n > 0 && Number.isSafeInteger(n) && 2 ** Math.round(Math.log2(n)) === n;

/**
 * The entries of an index node whose header (entries offset, bytes in use, bytes allocated, flags)
 * sits at `header` in `b`; entry offsets count from the header. The last entry ends the node.
 */
export function decodeNode(b: Uint8Array, header: number): Result<IndexNode> {
  const entriesOffset = u32(b, header);
  const inUse = u32(b, header + 4);
  const end = header + inUse;
  if (inUse > b.length - header || entriesOffset < 16 || entriesOffset + 16 > inUse) return { ok: false, reason: `index node header (entries at ${entriesOffset}, ${inUse} bytes in use) does not fit its ${b.length - header} bytes` };
  const entries: IndexEntry[] = [];
  for (let at = header + entriesOffset; ; ) {
    if (at + 16 > end) return { ok: false, reason: 'index node has no end entry' };
    const length = u16(b, at + 8);
    const keyLength = u16(b, at + 10);
    const flags = u16(b, at + 12);
    if (length < 16 || length % 8 !== 0 || at + length > end) return { ok: false, reason: `index entry of ${length} bytes at ${at - header} does not fit the node` };
    const hasSub = (flags & ENTRY_HAS_SUB_NODE) !== 0;
    if (16 + keyLength + (hasSub ? 8 : 0) > length) return { ok: false, reason: `index entry at ${at - header} has a ${keyLength}-byte key in ${length} bytes` };
    const entry: IndexEntry = mftRef(b, at);
    if (hasSub) {
      const vcn = s64(b, at + length - 8);
      if (vcn === undefined || vcn < 0) return { ok: false, reason: `index entry at ${at - header} points to sub-node VCN ${vcn ?? 'beyond 2^53'}` };
      entry.subNode = vcn;
    }
    if (flags & ENTRY_LAST) {
      entries.push(entry);
      break;
    }
    const key = decodeFileName(b.subarray(at + 16, at + 16 + keyLength));
    if (!key) return { ok: false, reason: `index entry at ${at - header} has a malformed file name key` };
    entry.key = key;
    entries.push(entry);
    at += length;
  }
  return { ok: true, entries };
}

/** The $INDEX_ROOT value of a directory: a $FILE_NAME index collated by file name. */
export function decodeIndexRoot(value: Uint8Array): Result<IndexRoot> {
  if (value.length < 32) return { ok: false, reason: `$INDEX_ROOT of ${value.length} bytes` };
  const indexedType = u32(value, 0);
  const collation = u32(value, 4);
  const blockSize = u32(value, 8);
  if (indexedType !== 0x30 || collation !== COLLATION_FILE_NAME) return { ok: false, reason: `$I30 indexes attribute 0x${indexedType.toString(16)} by collation ${collation}, not file names` };
  if (!isPow2(blockSize) || blockSize < 512 || blockSize > 64 * 1024) return { ok: false, reason: `index block size ${blockSize} is not a power of two from 512 to 64 KiB` };
  const node = decodeNode(value, 16);
  return node.ok ? { ok: true, blockSize, node } : { ok: false, reason: `$INDEX_ROOT: ${node.reason}` };
}

/** One INDX block (a copy of its own, see copyOf: fixups are undone in place), which must say it is block `vcn`. */
export function decodeIndexBlock(b: Uint8Array, vcn: number): Result<IndexNode> {
  const fail = (reason: string): Result<IndexNode> => ({ ok: false, reason: `index block at VCN ${vcn}: ${reason}` });
  const fixups = applyFixups(b, 'INDX');
  if (fixups) return fail(fixups);
  const own = s64(b, 0x10);
  if (own !== vcn) return fail(`it says it is block ${own ?? '?'}`);
  const node = decodeNode(b, 0x18);
  return node.ok ? node : fail(node.reason);
}

/** Upcases one UTF-16 code unit. */
export type Upcase = (unit: number) => number;

/** The volume's $UpCase table (65,536 little-endian code units) as a function. */
export function upcaseTable(bytes: Uint8Array): Upcase {
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = u16(bytes, i * 2);
  return (unit) => table[unit]!;
}

/** Used only when $UpCase cannot be read: JavaScript's one-to-one upper-casing of a code unit. */
export const simpleUpcase: Upcase = (unit) => {
  const upper = String.fromCharCode(unit).toUpperCase();
  return upper.length === 1 ? upper.charCodeAt(0) : unit;
};

/** Thrown by asciiUpcase when a code unit needs the volume's $UpCase table to be folded. */
export const NEEDS_UPCASE_TABLE = Symbol('needs the $UpCase table');

/**
 * Every $UpCase table folds ASCII as ASCII (a-z to A-Z, the rest unchanged), so names that are
 * ASCII where they are compared collate the same without the 128 KiB table; a unit above 0x7F
 * throws NEEDS_UPCASE_TABLE, and the caller loads the table and compares again.
 */
export const asciiUpcase: Upcase = (unit) => {
  if (unit >= 0x80) throw NEEDS_UPCASE_TABLE;
  return unit >= 0x61 && unit <= 0x7a ? unit - 0x20 : unit;
};

/** NTFS file-name collation, ignoring case: negative when `a` sorts before `b`. */
export function collateNames(a: string, b: string, upcase: Upcase): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = upcase(a.charCodeAt(i)) - upcase(b.charCodeAt(i));
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
