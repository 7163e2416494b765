import { u16, u32 } from '../gpt/le.js';
import type { ByteReader } from './byte-reader.js';
import { BASE_BLOCK_SIZE, decodeBaseBlock, type BaseBlock } from './regf-base.js';
import { HiveCells, hex } from './regf-cells.js';
import { latin1, upcaseName, utf16le, type HiveValue } from './regf-data.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * A read-only Windows registry hive (regf), as the BCD store is: keys (nk cells), their subkey
 * lists (lf, lh, li, and ri lists of those), value lists, values (vk) with data resident in the
 * value cell, in one data cell or in big-data segments (db). Every failure on hostile bytes is a
 * VolumeUnreadable with a one-line reason; nothing loops, and no allocation is sized by an
 * on-disk field beyond the hive's own size.
 *
 * The hive is read whole into memory: every cell lookup is then a bounds-checked view and the
 * walk stays synchronous. BCD stores are about 32 KiB and even SYSTEM hives tens of MiB, so
 * hives over MAX_HIVE_BYTES are refused with a reason rather than read in pieces.
 */
export const MAX_HIVE_BYTES = 64 * 1024 * 1024;
/** Deepest key nesting Windows allows (512 levels). */
export const MAX_KEY_DEPTH = 512;
/** Bytes of value data in each big-data segment. */
export const BIG_DATA_SEGMENT = 16344;

export interface HiveKey {
  /** The key's name; the root's is the hive's root name (e.g. "BCD00000000"). */
  readonly name: string;
  /** Its nk cell, from the first hive bin. */
  readonly offset: number;
  readonly subkeyCount: number;
  readonly valueCount: number;
  /** 0 for the root. */
  readonly depth: number;
  /** The key it was listed by; undefined for the root. */
  readonly parent: HiveKey | undefined;
  /** Cell offsets of its subkey list and value list, as stored (checked when they are read). */
  readonly subkeyList: number;
  readonly valueList: number;
}

export interface Hive {
  readonly root: HiveKey;
  readonly major: number;
  readonly minor: number;
  /** Oddities found at open that did not stop reading (dirty hive, checksum, truncation). */
  readonly problems: string[];
  /** Subkeys in stored order. Throws VolumeUnreadable when the key's lists are damaged. */
  subkeys(key: HiveKey): HiveKey[];
  /** The subkey of that name, compared case-insensitively as Windows does. */
  subkey(key: HiveKey, name: string): HiveKey | undefined;
  /** The key at a backslash-separated path below the root ("Objects\\{…}\\Elements"). */
  lookup(path: string): HiveKey | undefined;
  values(key: HiveKey): HiveValue[];
  /** The value of that name ("" for the default value), case-insensitively. */
  value(key: HiveKey, name: string): HiveValue | undefined;
}

/** Opens a hive from its bytes or a reader; throws VolumeUnreadable saying why when it is not one. */
export async function openHive(input: Uint8Array | ByteReader): Promise<Hive> {
  if (input instanceof Uint8Array) return parseHive(input);
  const head = await readFully(input, 0, Math.min(BASE_BLOCK_SIZE, input.size));
  const base = checkedBase(head);
  const length = Math.min(BASE_BLOCK_SIZE + base.hiveBinsDataSize, input.size);
  return new HiveReader(await readFully(input, 0, length), base).hive();
}

/** The same over bytes in memory (kept, not copied). */
export function parseHive(bytes: Uint8Array): Hive {
  return new HiveReader(bytes, checkedBase(bytes)).hive();
}

function checkedBase(bytes: Uint8Array): BaseBlock {
  const base = decodeBaseBlock(bytes.subarray(0, BASE_BLOCK_SIZE));
  if (!base.ok) throw new VolumeUnreadable(`not a registry hive: ${base.reason}`);
  if (base.hiveBinsDataSize > MAX_HIVE_BYTES - BASE_BLOCK_SIZE) {
    throw new VolumeUnreadable(`the hive declares ${base.hiveBinsDataSize} bytes of hive bins; this reader loads at most ${MAX_HIVE_BYTES} bytes`);
  }
  return base;
}

/** `length` bytes from `offset`, in as many reads as the reader needs; fewer at its end. */
async function readFully(r: ByteReader, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, length));
  let got = 0;
  while (got < out.length) {
    const chunk = await r.read(offset + got, out.length - got);
    if (chunk.length === 0) break;
    const take = Math.min(chunk.length, out.length - got);
    out.set(chunk.subarray(0, take), got);
    got += take;
  }
  return got === out.length ? out : out.subarray(0, got);
}

const sig = (c: Uint8Array): string => {
  const a = c[0] ?? 0;
  const b = c[1] ?? 0;
  const printable = (x: number): boolean => x >= 0x20 && x < 0x7f;
  return printable(a) && printable(b) ? `"${String.fromCharCode(a, b)}"` : hex(a | (b << 8));
};
const is = (c: Uint8Array, s: string): boolean => c[0] === s.charCodeAt(0) && c[1] === s.charCodeAt(1);
const NK_FIXED = 76;
const VK_FIXED = 20;
const FLAG_KEY_COMP_NAME = 0x20;
const FLAG_VALUE_COMP_NAME = 0x01;

interface ValueHead {
  offset: number;
  name: string;
  type: number;
  rawLength: number;
  dataOffset: number;
  cell: Uint8Array;
}

class HiveReader {
  private readonly cells: HiveCells;
  private readonly problems: string[];
  /** Assembled big data by db cell, and which db each segment cell belongs to. */
  private readonly bigData = new Map<number, Uint8Array>();
  private readonly segmentOwner = new Map<number, number>();

  constructor(
    bytes: Uint8Array,
    private readonly base: BaseBlock,
  ) {
    this.problems = [...base.problems];
    const declared = BASE_BLOCK_SIZE + base.hiveBinsDataSize;
    if (bytes.length < declared) this.problems.push(`the hive holds ${bytes.length} bytes of the ${declared} its base block declares`);
    this.cells = new HiveCells(bytes.subarray(BASE_BLOCK_SIZE, declared), this.problems);
  }

  hive(): Hive {
    const root = this.key(this.base.rootCellOffset, undefined, 'the root key');
    return {
      root,
      major: this.base.major,
      minor: this.base.minor,
      problems: this.problems,
      subkeys: (key) => this.subkeys(key),
      subkey: (key, name) => this.subkey(key, name),
      lookup: (path) => {
        let key: HiveKey | undefined = root;
        for (const part of path.split('\\')) if (part && key) key = this.subkey(key, part);
        return key;
      },
      values: (key) => this.valueHeads(key).map((v) => this.valueOf(v)),
      value: (key, name) => {
        const wanted = upcaseName(name);
        const head = this.valueHeads(key).find((v) => upcaseName(v.name) === wanted);
        return head && this.valueOf(head);
      },
    };
  }

  private key(offset: number, parent: HiveKey | undefined, what: string): HiveKey {
    const c = this.cells.cell(offset, what);
    if (c.length < NK_FIXED || !is(c, 'nk')) throw new VolumeUnreadable(`${what}: the cell at ${hex(offset)} is not a key (signature ${sig(c)}, ${c.length} bytes)`);
    const nameLength = u16(c, 72);
    if (NK_FIXED + nameLength > c.length) throw new VolumeUnreadable(`${what}: the key at ${hex(offset)} has a ${nameLength}-byte name that runs past its cell`);
    const name = u16(c, 2) & FLAG_KEY_COMP_NAME ? latin1(c, NK_FIXED, nameLength) : utf16le(c, NK_FIXED, nameLength);
    if (parent && u32(c, 16) !== parent.offset) {
      throw new VolumeUnreadable(`${what}: key "${name}" at ${hex(offset)} names ${hex(u32(c, 16))} as its parent, not the key at ${hex(parent.offset)} that lists it`);
    }
    return {
      name,
      offset,
      subkeyCount: u32(c, 20),
      valueCount: u32(c, 36),
      depth: parent ? parent.depth + 1 : 0,
      parent,
      subkeyList: u32(c, 28),
      valueList: u32(c, 40),
    };
  }

  private subkeys(key: HiveKey): HiveKey[] {
    if (key.subkeyCount === 0) return [];
    const what = `the subkeys of "${key.name}"`;
    if (key.depth >= MAX_KEY_DEPTH) throw new VolumeUnreadable(`${what}: keys nest deeper than ${MAX_KEY_DEPTH} levels`);
    const offsets = this.listOffsets(key.subkeyList, what);
    if (offsets.length !== key.subkeyCount) throw new VolumeUnreadable(`${what}: the key claims ${key.subkeyCount} subkeys but its list holds ${offsets.length}`);
    const seen = new Set<number>();
    return offsets.map((offset) => {
      if (seen.has(offset)) throw new VolumeUnreadable(`${what}: the list names the key at ${hex(offset)} twice`);
      seen.add(offset);
      for (let up: HiveKey | undefined = key; up; up = up.parent) {
        if (up.offset === offset) throw new VolumeUnreadable(`${what}: the list names the key at ${hex(offset)}, which contains it (a cycle)`);
      }
      return this.key(offset, key, what);
    });
  }

  /** The nk offsets of a subkey list: lf/lh (offset + hint), li (offsets), ri (lists of those). */
  private listOffsets(offset: number, what: string, inRi?: number): number[] {
    const c = this.cells.cell(offset, what);
    const count = u16(c, 2);
    const entry = is(c, 'lf') || is(c, 'lh') ? 8 : is(c, 'li') || is(c, 'ri') ? 4 : 0;
    if (c.length < 4 || entry === 0) throw new VolumeUnreadable(`${what}: the list at ${hex(offset)} has signature ${sig(c)}, not lf, lh, li or ri`);
    if (4 + count * entry > c.length) throw new VolumeUnreadable(`${what}: the list at ${hex(offset)} claims ${count} entries but its cell holds ${Math.floor((c.length - 4) / entry)}`);
    const out: number[] = [];
    if (!is(c, 'ri')) {
      for (let i = 0; i < count; i++) out.push(u32(c, 4 + i * entry));
      return out;
    }
    if (inRi !== undefined) throw new VolumeUnreadable(`${what}: the ri list at ${hex(offset)} lies inside the ri list at ${hex(inRi)}`);
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const sub = u32(c, 4 + i * 4);
      if (sub === offset) throw new VolumeUnreadable(`${what}: the ri list at ${hex(offset)} lists itself`);
      if (seen.has(sub)) throw new VolumeUnreadable(`${what}: the ri list at ${hex(offset)} names the list at ${hex(sub)} twice`);
      seen.add(sub);
      for (const o of this.listOffsets(sub, what, offset)) out.push(o);
    }
    return out;
  }

  private subkey(key: HiveKey, name: string): HiveKey | undefined {
    const wanted = upcaseName(name);
    return this.subkeys(key).find((k) => upcaseName(k.name) === wanted);
  }

  /** Names, types and data locations of a key's values, without reading their data. */
  private valueHeads(key: HiveKey): ValueHead[] {
    if (key.valueCount === 0) return [];
    const what = `the values of "${key.name}"`;
    const list = this.cells.cell(key.valueList, what);
    if (key.valueCount * 4 > list.length) throw new VolumeUnreadable(`${what}: the key claims ${key.valueCount} values but its value list holds ${Math.floor(list.length / 4)}`);
    const heads: ValueHead[] = [];
    for (let i = 0; i < key.valueCount; i++) {
      const offset = u32(list, i * 4);
      const c = this.cells.cell(offset, what);
      if (c.length < VK_FIXED || !is(c, 'vk')) throw new VolumeUnreadable(`${what}: the cell at ${hex(offset)} is not a value (signature ${sig(c)}, ${c.length} bytes)`);
      const nameLength = u16(c, 2);
      if (VK_FIXED + nameLength > c.length) throw new VolumeUnreadable(`${what}: the value at ${hex(offset)} has a ${nameLength}-byte name that runs past its cell`);
      const name = u16(c, 16) & FLAG_VALUE_COMP_NAME ? latin1(c, VK_FIXED, nameLength) : utf16le(c, VK_FIXED, nameLength);
      heads.push({ offset, name, type: u32(c, 12), rawLength: u32(c, 4), dataOffset: u32(c, 8), cell: c });
    }
    return heads;
  }

  private valueOf(v: ValueHead): HiveValue {
    return { name: v.name, type: v.type, data: this.dataOf(v) };
  }

  /**
   * Value data: resident in the data-offset field when the length has bit 31 set (at most four
   * bytes); else in the data cell when it fits there (as hivex also writes values over 16,344
   * bytes); else in the segments of a big-data (db) cell.
   */
  private dataOf(v: ValueHead): Uint8Array {
    const what = `value "${v.name}"`;
    if (v.rawLength & 0x80000000) {
      const length = v.rawLength & 0x7fffffff;
      if (length > 4) throw new VolumeUnreadable(`${what}: ${length} bytes of resident data; at most 4 fit in the value cell`);
      return v.cell.subarray(8, 8 + length);
    }
    if (v.rawLength === 0) return v.cell.subarray(0, 0);
    if (v.rawLength > this.cells.size) throw new VolumeUnreadable(`${what}: it claims ${v.rawLength} bytes of data, more than the hive bins hold`);
    const c = this.cells.cell(v.dataOffset, what);
    if (v.rawLength <= c.length) return c.subarray(0, v.rawLength);
    if (!is(c, 'db')) throw new VolumeUnreadable(`${what}: it claims ${v.rawLength} bytes but its data cell at ${hex(v.dataOffset)} holds ${c.length} and is no big-data (db) cell`);
    const data = this.assembleBigData(v.dataOffset, c, what);
    if (v.rawLength > data.length) throw new VolumeUnreadable(`${what}: it claims ${v.rawLength} bytes but its big-data segments hold ${data.length}`);
    return data.subarray(0, v.rawLength);
  }

  /**
   * Every segment a db cell lists, joined: each gives 16,344 bytes, and a shorter one ends the
   * data. Assembled once per db cell; a segment cell may belong to one db cell only, so all
   * the copies together are never larger than the hive.
   */
  private assembleBigData(offset: number, db: Uint8Array, what: string): Uint8Array {
    const cached = this.bigData.get(offset);
    if (cached) return cached;
    if (db.length < 8) throw new VolumeUnreadable(`${what}: the big-data cell at ${hex(offset)} is ${db.length} bytes, too short for its segment list`);
    const count = u16(db, 2);
    const listOffset = u32(db, 4);
    const list = this.cells.cell(listOffset, `${what}'s big-data segment list`);
    if (count * 4 > list.length) throw new VolumeUnreadable(`${what}: the big-data cell lists ${count} segments but its segment list holds ${Math.floor(list.length / 4)}`);
    const segments: Uint8Array[] = [];
    const mine = new Set<number>();
    let total = 0;
    for (let i = 0; i < count; i++) {
      const at = u32(list, i * 4);
      const owner = this.segmentOwner.get(at);
      if (mine.has(at)) throw new VolumeUnreadable(`${what}: the big-data cell at ${hex(offset)} lists segment ${hex(at)} twice`);
      if (owner !== undefined) throw new VolumeUnreadable(`${what}: big-data segment ${hex(at)} belongs to the big-data cell at ${hex(owner)} too`);
      mine.add(at);
      const seg = this.cells.cell(at, `${what}'s big-data segment ${i}`);
      const take = Math.min(seg.length, BIG_DATA_SEGMENT);
      segments.push(seg.subarray(0, take));
      total += take;
      if (take < BIG_DATA_SEGMENT) break;
    }
    for (const at of mine) this.segmentOwner.set(at, offset);
    const data = new Uint8Array(total);
    let at = 0;
    for (const s of segments) {
      data.set(s, at);
      at += s.length;
    }
    this.bigData.set(offset, data);
    return data;
  }
}
