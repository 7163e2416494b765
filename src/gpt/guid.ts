/**
 * GUIDs as GPT stores them: "mixed-endian" — the first three groups little-endian,
 * the last two as plain bytes (UEFI spec, Appendix A). Text is uppercase canonical.
 */
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** Character codes of each byte's two uppercase hex digits. */
const HEX_CODES = Array.from({ length: 256 }, (_, i) => {
  const text = i.toString(16).toUpperCase().padStart(2, '0');
  return [text.charCodeAt(0), text.charCodeAt(1)] as const;
});
/** Byte order of the text form; -1 is a dash. */
const TEXT_ORDER = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];
const DASH = 0x2d;
const textCodes = new Array<number>(36);

/**
 * Decodes the 16 bytes at `offset` into canonical uppercase text. Built from character codes in
 * one step: a flat string hashes fast, and tables with 32,768 entries key maps by these.
 */
export function decodeGuid(bytes: Uint8Array, offset = 0): string {
  let k = 0;
  for (const i of TEXT_ORDER) {
    if (i < 0) {
      textCodes[k++] = DASH;
      continue;
    }
    const hex = HEX_CODES[bytes[offset + i] ?? 0]!;
    textCodes[k++] = hex[0];
    textCodes[k++] = hex[1];
  }
  return String.fromCharCode.apply(null, textCodes);
}

/** The GUID decodeRepeatedGuid decoded last: its bytes and its text. */
const lastBytes = new Uint8Array(16);
let lastText: string | undefined;

/**
 * decodeGuid for a field that mostly repeats, as the type GUIDs of a table's entries do: the same
 * 16 bytes as the call before give that call's string back, which is neither built again nor, as a
 * map key, hashed again (V8 keeps a string's hash). A 32,768-entry table has a handful of types.
 */
export function decodeRepeatedGuid(bytes: Uint8Array, offset = 0): string {
  if (lastText !== undefined) {
    let same = true;
    for (let i = 0; i < 16 && same; i++) same = bytes[offset + i] === lastBytes[i];
    if (same) return lastText;
  }
  const text = decodeGuid(bytes, offset);
  for (let i = 0; i < 16; i++) lastBytes[i] = bytes[offset + i] ?? 0;
  lastText = text;
  return text;
}

const GUID_TEXT = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** Canonical uppercase form of GUID text (braces allowed), or undefined when it is not a GUID. */
export function normalizeGuid(text: string): string | undefined {
  const m = GUID_TEXT.exec(text.trim());
  if (!m) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toUpperCase();
}

/** Writes GUID text into 16 bytes at `offset` in GPT's mixed-endian order. */
export function encodeGuid(text: string, target: Uint8Array, offset = 0): void {
  const canonical = normalizeGuid(text);
  if (!canonical) throw new TypeError(`not a GUID: ${text}`);
  const hex = canonical.replace(/-/g, '');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) {
    target[offset + order[i]!] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
}

export function isZeroGuid(bytes: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 16; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}
