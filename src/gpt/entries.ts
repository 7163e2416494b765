import { attributeNames } from './attributes.js';
import { crc32 } from './crc32.js';
import { decodeGuid, decodeRepeatedGuid, encodeGuid, isZeroGuid } from './guid.js';
import { put64, u64, u64big } from './le.js';

/** Offset and length of the name field inside an entry. */
const NAME_OFFSET = 56;
export const NAME_MAX_UNITS = 36;

/**
 * One used slot of a partition entry array. The LBAs are decoded at once, since every rule needs
 * them; the GUIDs, attributes and name on first use, and then kept. A check of a 32,768-entry
 * table that finds nothing wrong never decodes most of them (the report's partition list does,
 * when something reads it).
 */
export class GptEntry {
  /** 1-based slot number, as gdisk and sfdisk count. */
  readonly index: number;
  readonly firstLba: number;
  readonly lastLba: number;
  /** The array the entry lives in, and where in it: its bytes are `array[offset, offset + size)`. */
  readonly array: Uint8Array;
  readonly offset: number;
  readonly size: number;
  private typeGuid_?: string;
  private uniqueGuid_?: string;
  private attributes_?: bigint;
  private name_?: string;

  constructor(array: Uint8Array, offset: number, size: number, index: number) {
    this.array = array;
    this.offset = offset;
    this.size = size;
    this.index = index;
    this.firstLba = u64(array, offset + 32);
    this.lastLba = u64(array, offset + 40);
  }

  get typeGuid(): string {
    return (this.typeGuid_ ??= decodeRepeatedGuid(this.array, this.offset));
  }

  get uniqueGuid(): string {
    return (this.uniqueGuid_ ??= decodeGuid(this.array, this.offset + 16));
  }

  get attributes(): bigint {
    return (this.attributes_ ??= u64big(this.array, this.offset + 48));
  }

  get name(): string {
    return (this.name_ ??= decodeName(this.array.subarray(this.offset, this.offset + this.size), NAME_OFFSET));
  }

  /** The entry's own bytes (a view, `size` long); the encoder starts from them so reserved bytes survive. */
  get raw(): Uint8Array {
    return this.array.subarray(this.offset, this.offset + this.size);
  }

  /** The decoded fields, as a plain object (what an edit starts from). */
  fields(): EntryFields {
    return { typeGuid: this.typeGuid, uniqueGuid: this.uniqueGuid, firstLba: this.firstLba, lastLba: this.lastLba, attributes: this.attributes, name: this.name };
  }
}

export function isUsedEntry(bytes: Uint8Array, offset = 0): boolean {
  return !isZeroGuid(bytes, offset);
}

/**
 * Decodes one entry from its bytes, kept as a copy: an entry decodes some fields on first use,
 * and an edit written over the same bytes afterwards must not change what it says.
 */
export function decodeEntry(raw: Uint8Array, index: number): GptEntry {
  return new GptEntry(raw.slice(), 0, raw.length, index);
}

/**
 * The used entries (non-zero type GUID) of an array, each with its real slot index.
 * Unused slots are skipped without decoding, so a 32,768-slot array with 3 partitions is cheap.
 * The entries read the array where it lies (no copy): it must not be changed afterwards, as
 * nothing does with the arrays a LoadedGpt holds (edits work on a TableModel's copy).
 */
export function decodeUsedEntries(array: Uint8Array, entrySize: number, entryCount: number): GptEntry[] {
  const used: GptEntry[] = [];
  const slots = Math.min(entryCount, Math.floor(array.length / entrySize));
  for (let i = 0; i < slots; i++) {
    const offset = i * entrySize;
    if (isUsedEntry(array, offset)) used.push(new GptEntry(array, offset, entrySize, i + 1));
  }
  return used;
}

/** One decoder for every entry: building a TextDecoder costs more than decoding a 72-byte name. */
const UTF16LE = new TextDecoder('utf-16le');

/** Code units of the name being decoded: reused, so decoding 32,768 names allocates only their strings. */
const nameUnits: number[] = [];

/**
 * UTF-16LE up to the first NUL code unit, from `bytes[offset]` on for at most 36 units (the
 * name field); surrogate pairs stay whole, lone ones become U+FFFD.
 */
export function decodeName(bytes: Uint8Array, offset = 0): string {
  const end = Math.min(bytes.length, offset + NAME_MAX_UNITS * 2);
  nameUnits.length = 0;
  let surrogates = false;
  for (let i = offset; i + 1 < end; i += 2) {
    const unit = bytes[i]! | (bytes[i + 1]! << 8);
    if (unit === 0) break;
    if (unit >= 0xd800 && unit <= 0xdfff) surrogates = true;
    nameUnits.push(unit);
  }
  if (nameUnits.length === 0) return '';
  // Without surrogates every unit is one character; building the string directly skips the
  // decoder call, which dominates decoding a 32,768-entry array. Pairs go through the decoder.
  return surrogates ? UTF16LE.decode(bytes.subarray(offset, offset + nameUnits.length * 2)) : String.fromCharCode.apply(null, nameUnits);
}

/** Name as UTF-16 code units; throws a RangeError a person can read when it does not fit. */
export function encodeName(name: string): Uint8Array {
  const out = new Uint8Array(NAME_MAX_UNITS * 2);
  if (name.length > NAME_MAX_UNITS) {
    throw new RangeError(`partition name "${name}" is ${name.length} UTF-16 code units long; GPT allows at most ${NAME_MAX_UNITS}`);
  }
  if (name.includes('\0')) throw new RangeError('partition name must not contain NUL characters');
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    out[i * 2] = unit & 0xff;
    out[i * 2 + 1] = unit >>> 8;
  }
  return out;
}

/** What an entry says, as plain data: what the encoder writes. */
export interface EntryFields {
  typeGuid: string;
  uniqueGuid: string;
  firstLba: number;
  lastLba: number;
  attributes: bigint;
  name: string;
}

/**
 * Encodes entry fields over a copy of `base` (the slot's current bytes). The name field is
 * rewritten only when the name changed, so odd bytes after a NUL survive an unrelated edit.
 */
export function encodeEntry(fields: EntryFields, base: Uint8Array): Uint8Array {
  const e = new Uint8Array(base);
  encodeGuid(fields.typeGuid, e, 0);
  encodeGuid(fields.uniqueGuid, e, 16);
  put64(e, 32, fields.firstLba);
  put64(e, 40, fields.lastLba);
  put64(e, 48, fields.attributes);
  if (decodeName(e.subarray(NAME_OFFSET, NAME_OFFSET + NAME_MAX_UNITS * 2)) !== fields.name) {
    e.set(encodeName(fields.name), NAME_OFFSET);
  }
  return e;
}

export function arrayCrc(array: Uint8Array, entryCount: number, entrySize: number): number {
  return crc32(array.subarray(0, entryCount * entrySize));
}

export { attributeNames };
