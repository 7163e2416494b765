import { u32, u64big } from '../gpt/le.js';

/** Registry value types, names and the typed reads of value data (REG_SZ, REG_DWORD, …). */
export const REG_NONE = 0;
export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_DWORD_BIG_ENDIAN = 5;
export const REG_LINK = 6;
export const REG_MULTI_SZ = 7;
export const REG_QWORD = 11;

const TYPE_NAMES: Record<number, string> = {
  [REG_NONE]: 'REG_NONE',
  [REG_SZ]: 'REG_SZ',
  [REG_EXPAND_SZ]: 'REG_EXPAND_SZ',
  [REG_BINARY]: 'REG_BINARY',
  [REG_DWORD]: 'REG_DWORD',
  [REG_DWORD_BIG_ENDIAN]: 'REG_DWORD_BIG_ENDIAN',
  [REG_LINK]: 'REG_LINK',
  [REG_MULTI_SZ]: 'REG_MULTI_SZ',
  8: 'REG_RESOURCE_LIST',
  9: 'REG_FULL_RESOURCE_DESCRIPTOR',
  10: 'REG_RESOURCE_REQUIREMENTS_LIST',
  [REG_QWORD]: 'REG_QWORD',
};

export function regTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

export interface HiveValue {
  /** "" for the key's default value. */
  name: string;
  type: number;
  /** A view into the hive's bytes (big data: a copy the hive keeps); do not modify. */
  data: Uint8Array;
}

/** Bytes as Latin-1 characters: the "compressed" names of keys and values. */
export function latin1(b: Uint8Array, from: number, length: number): string {
  let s = '';
  for (let at = from; at < from + length; at += 8192) s += String.fromCharCode(...b.subarray(at, Math.min(at + 8192, from + length)));
  return s;
}

/** UTF-16LE code units as a string (an odd last byte is dropped), optionally up to the first NUL. */
export function utf16le(b: Uint8Array, from: number, length: number, stopAtNul = false): string {
  const units: number[] = [];
  let s = '';
  const end = from + length - (length % 2);
  for (let at = from; at < end; at += 2) {
    const unit = b[at]! | (b[at + 1]! << 8);
    if (unit === 0 && stopAtNul) break;
    units.push(unit);
    if (units.length === 8192) {
      s += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return s + String.fromCharCode(...units);
}

const upcaseCache = new Map<number, number>();

/**
 * A name in upper case one UTF-16 unit at a time, as Windows compares key and value names
 * (RtlUpcaseUnicodeChar): a unit whose upper case is not one unit ("ß") stays as it is, so
 * the length never changes.
 */
export function upcaseName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x80) {
      out += String.fromCharCode(c >= 0x61 && c <= 0x7a ? c - 32 : c);
      continue;
    }
    let up = upcaseCache.get(c);
    if (up === undefined) {
      const u = String.fromCharCode(c).toUpperCase();
      up = u.length === 1 ? u.charCodeAt(0) : c;
      upcaseCache.set(c, up);
    }
    out += String.fromCharCode(up);
  }
  return out;
}

const isString = (v: HiveValue): boolean => v.type === REG_SZ || v.type === REG_EXPAND_SZ || v.type === REG_LINK;

/** REG_SZ, REG_EXPAND_SZ or REG_LINK text up to its first NUL; undefined for other types. */
export function regSz(v: HiveValue): string | undefined {
  return isString(v) ? utf16le(v.data, 0, v.data.length, true) : undefined;
}

/** REG_MULTI_SZ strings, up to the empty string that ends the list; undefined for other types. */
export function regMultiSz(v: HiveValue): string[] | undefined {
  if (v.type !== REG_MULTI_SZ) return undefined;
  const strings = utf16le(v.data, 0, v.data.length).split('\0');
  const end = strings.indexOf('');
  return end < 0 ? strings : strings.slice(0, end);
}

/** REG_DWORD (little-endian) or REG_DWORD_BIG_ENDIAN of at least four bytes; else undefined. */
export function regDword(v: HiveValue): number | undefined {
  if (v.data.length < 4) return undefined;
  if (v.type === REG_DWORD) return u32(v.data, 0);
  if (v.type === REG_DWORD_BIG_ENDIAN) return ((v.data[0]! << 24) | (v.data[1]! << 16) | (v.data[2]! << 8) | v.data[3]!) >>> 0;
  return undefined;
}

/** REG_QWORD of at least eight bytes; else undefined. */
export function regQword(v: HiveValue): bigint | undefined {
  return v.type === REG_QWORD && v.data.length >= 8 ? u64big(v.data, 0) : undefined;
}

/** REG_BINARY data; undefined for other types. */
export function regBinary(v: HiveValue): Uint8Array | undefined {
  return v.type === REG_BINARY ? v.data : undefined;
}
