/**
 * GUIDs as GPT stores them: "mixed-endian" — the first three groups little-endian,
 * the last two as plain bytes (UEFI spec, Appendix A). Text is uppercase canonical.
 */
export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Decodes the 16 bytes at `offset` into canonical uppercase text. */
export function decodeGuid(bytes: Uint8Array, offset = 0): string {
  const b = (i: number): string => HEX[bytes[offset + i] ?? 0]!;
  return (
    b(3) + b(2) + b(1) + b(0) + '-' + b(5) + b(4) + '-' + b(7) + b(6) + '-' +
    b(8) + b(9) + '-' + b(10) + b(11) + b(12) + b(13) + b(14) + b(15)
  );
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
