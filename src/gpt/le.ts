/** Little-endian field access on byte arrays that may be shorter than the field (reads give 0). */

export function u16(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16)) + (b[off + 3] ?? 0) * 0x1000000;
}

/** 64-bit field as a JS number; values above 2^53 lose precision (callers validate against disk size). */
export function u64(b: Uint8Array, off: number): number {
  return u32(b, off) + u32(b, off + 4) * 0x1_0000_0000;
}

export function u64big(b: Uint8Array, off: number): bigint {
  const low = u32(b, off);
  const high = u32(b, off + 4);
  if (high === 0) return BigInt(low); // the usual case (attributes 0): skips two BigInt operations
  return BigInt(low) | (BigInt(high) << 32n);
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

export function put64(b: Uint8Array, off: number, v: number | bigint): void {
  const big = BigInt(v);
  put32(b, off, Number(big & 0xffffffffn));
  put32(b, off + 4, Number((big >> 32n) & 0xffffffffn));
}

export function isAllZero(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** A byte as 0x and 2 uppercase hex digits (MBR partition types). */
export function hex8(v: number): string {
  return `0x${v.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** 0x and 8 uppercase hex digits: CRCs and MBR disk signatures, as the JSON contract shows them. */
export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

const ZERO_HEX64 = '0x0000000000000000';

export function hex64(v: bigint): string {
  // Most attribute fields are 0: a 32,768-entry report formats one per entry.
  return v === 0n ? ZERO_HEX64 : '0x' + v.toString(16).toUpperCase().padStart(16, '0');
}
