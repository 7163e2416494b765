import { u32 } from '../gpt/le.js';

/**
 * The base block of a Windows registry hive ("regf"): the first 4,096 bytes of the file. Only the
 * first 512 carry fields; the hive bins follow at offset 4096, and every cell offset in the hive
 * counts from there. Layout per Microsoft's hive format as documented by the libregf and
 * hivex projects:
 *
 *   0 "regf"   4 primary sequence   8 secondary sequence   12 last written (FILETIME)
 *   20 major version (1)   24 minor version (2..6)   28 file type (0 = primary)
 *   32 file format (1 = direct memory load)   36 root cell offset   40 hive bins data size
 *   44 clustering factor   48 file name (UTF-16LE, 64 bytes)   508 checksum
 */
export const BASE_BLOCK_SIZE = 4096;

export interface BaseBlock {
  ok: boolean;
  /** Why this is not a hive, when `ok` is false. */
  reason?: string;
  primarySequence: number;
  secondarySequence: number;
  major: number;
  minor: number;
  fileType: number;
  fileFormat: number;
  rootCellOffset: number;
  hiveBinsDataSize: number;
  /** The checksum stored at 508, and the one the first 508 bytes give. */
  storedChecksum: number;
  checksum: number;
  /** Oddities that do not stop reading: a dirty hive, a checksum mismatch, unusual fields. */
  problems: string[];
}

/** XOR of the 127 dwords before offset 508; 0 is stored as 1 and 0xFFFFFFFF as 0xFFFFFFFE. */
export function baseBlockChecksum(b: Uint8Array): number {
  let x = 0;
  for (let at = 0; at < 508; at += 4) x ^= u32(b, at);
  x >>>= 0;
  return x === 0 ? 1 : x === 0xffffffff ? 0xfffffffe : x;
}

const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

export function decodeBaseBlock(b: Uint8Array): BaseBlock {
  const block: BaseBlock = {
    ok: true,
    primarySequence: u32(b, 4),
    secondarySequence: u32(b, 8),
    major: u32(b, 20),
    minor: u32(b, 24),
    fileType: u32(b, 28),
    fileFormat: u32(b, 32),
    rootCellOffset: u32(b, 36),
    hiveBinsDataSize: u32(b, 40),
    storedChecksum: u32(b, 508),
    checksum: baseBlockChecksum(b),
    problems: [],
  };
  const fail = (reason: string): BaseBlock => ({ ...block, ok: false, reason });
  if (b.length < 512) return fail(`the base block is ${b.length} bytes, less than the 512 that hold its fields`);
  if (b[0] !== 0x72 || b[1] !== 0x65 || b[2] !== 0x67 || b[3] !== 0x66) return fail('no "regf" signature at byte 0');
  if (block.major !== 1) return fail(`major version ${block.major} is not 1`);
  if (block.hiveBinsDataSize < 4096) return fail(`the hive bins data size ${block.hiveBinsDataSize} is below one 4,096-byte bin`);
  const p = block.problems;
  if (block.storedChecksum !== block.checksum) p.push(`the base block checksum is ${hex(block.storedChecksum)}; its bytes give ${hex(block.checksum)}`);
  if (block.primarySequence !== block.secondarySequence) {
    p.push(`sequence numbers ${block.primarySequence} and ${block.secondarySequence} differ: the hive was not written cleanly (dirty), and its .LOG files may hold newer data`);
  }
  if (block.minor < 2 || block.minor > 6) p.push(`minor version ${block.minor} is outside 1.2..1.6`);
  if (block.fileType !== 0) p.push(`file type ${block.fileType} is not 0 (a primary hive)`);
  if (block.fileFormat !== 1) p.push(`file format ${block.fileFormat} is not 1 (direct memory load)`);
  if (block.hiveBinsDataSize % 4096 !== 0) p.push(`the hive bins data size ${block.hiveBinsDataSize} is not a multiple of 4,096`);
  return block;
}
