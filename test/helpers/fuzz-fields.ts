import CRC32 from 'crc-32';
import CRC32C from 'crc-32/crc32c.js';

/**
 * Field-aware mutators for the container fuzz test (fuzz-containers.test.ts): each picks a field
 * of a known structure from a table (offset, width, byte order, unit), writes a boundary value
 * into it, and recomputes every checksum over it, so the value reaches the code that uses it.
 */
const MiB = 1024 * 1024;

export type Endian = 'le' | 'be';
export type Rand = () => number;
export type Width = 1 | 2 | 4 | 8;
export type Mutator = (rand: Rand, b: Buffer) => string;

export const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
export const below = (rand: Rand, n: number): number => Math.floor(rand() * n);

export function getUint(b: Buffer, at: number, width: Width, endian: Endian): bigint {
  if (width === 1) return BigInt(b[at]!);
  if (width === 2) return BigInt(endian === 'le' ? b.readUInt16LE(at) : b.readUInt16BE(at));
  if (width === 4) return BigInt(endian === 'le' ? b.readUInt32LE(at) : b.readUInt32BE(at));
  return endian === 'le' ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
}

export function setUint(b: Buffer, at: number, width: Width, endian: Endian, value: bigint): void {
  const v = BigInt.asUintN(width * 8, value);
  if (width === 1) b[at] = Number(v);
  else if (width === 2 && endian === 'le') b.writeUInt16LE(Number(v), at);
  else if (width === 2) b.writeUInt16BE(Number(v), at);
  else if (width === 4 && endian === 'le') b.writeUInt32LE(Number(v), at);
  else if (width === 4) b.writeUInt32BE(Number(v), at);
  else if (endian === 'le') b.writeBigUInt64LE(v, at);
  else b.writeBigUInt64BE(v, at);
}

/** A field of a structure: where it is, how wide, and in which unit its value counts (sectors, MiB…). */
export interface Field {
  name: string;
  offset: number;
  width: Width;
  endian: Endian;
  /** Bytes per unit of the value (an LBA field counts sectors): boundary values are scaled by it. */
  unit?: number;
  /** Byte offsets of other structures, written as "a value equal to another structure's offset". */
  related?: number[];
  /** Values that matter for this field in particular (flag bits, known magic numbers). */
  extra?: bigint[];
}

/**
 * A boundary value for `field`: 0, 1, max, max-1, the file size (in the field's unit) and ±1, a
 * value pointing past EOF, huge powers of two, the original ±1, ×2, /2, or another structure's offset.
 */
export function boundary(rand: Rand, b: Buffer, field: Field, fileSize: number): bigint {
  const max = (1n << BigInt(field.width * 8)) - 1n;
  const unit = BigInt(field.unit ?? 1);
  const original = getUint(b, field.offset, field.width, field.endian);
  const inUnits = BigInt(fileSize) / unit;
  const candidates = [
    0n, 1n, max, max - 1n, inUnits, inUnits - 1n, inUnits + 1n, inUnits + 1000n, inUnits * 1024n,
    1n << 31n, 1n << 32n, (1n << 32n) - 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 62n, 1n << 63n,
    original + 1n, original - 1n, original * 2n, original / 2n, original + (1n << 20n),
    ...(field.related ?? []).map((o) => BigInt(Math.floor(o)) / unit),
    ...(field.extra ?? []),
  ];
  return BigInt.asUintN(field.width * 8, pick(rand, candidates));
}

/** Writes a boundary value into `field` and says what it did, for the failure report. */
export function mutateField(rand: Rand, b: Buffer, field: Field, fileSize: number): string {
  const value = boundary(rand, b, field, fileSize);
  setUint(b, field.offset, field.width, field.endian, value);
  return `${field.name}=0x${value.toString(16)}`;
}

export const crc32 = (bytes: Uint8Array): number => CRC32.buf(bytes) >>> 0;
export const crc32c = (bytes: Uint8Array): number => CRC32C.buf(bytes) >>> 0;

// ---------------------------------------------------------------------------------------------
// GPT (inside a raw image), at 512 and 4096 bytes per sector.

/**
 * Recomputes one GPT copy's checksums after its fields changed: the entry-array CRC32 over the
 * array its (possibly mutated) header describes, when that array lies in the file, then the
 * header CRC32 over headerSize bytes with the CRC field zeroed (92 bytes when headerSize is absurd).
 */
export function fixGptCopy(b: Buffer, at: number, ss: number): void {
  const entriesLba = b.readBigUInt64LE(at + 72);
  const count = b.readUInt32LE(at + 80);
  const size = b.readUInt32LE(at + 84);
  const bytes = count * size;
  const from = Number(entriesLba) * ss;
  if (bytes > 0 && bytes <= 4 * MiB && Number.isSafeInteger(from) && from + bytes <= b.length) {
    b.writeUInt32LE(crc32(b.subarray(from, from + bytes)), at + 88);
  }
  const headerSize = b.readUInt32LE(at + 12);
  const span = headerSize >= 92 && headerSize <= ss ? headerSize : 92;
  b.writeUInt32LE(0, at + 16);
  b.writeUInt32LE(crc32(b.subarray(at, at + span)), at + 16);
}

export function gptMutator(ss: number): Mutator {
  return (rand, b) => {
    const primaryAt = ss;
    const backupLba = Number(b.readBigUInt64LE(primaryAt + 32));
    const copies = pick(rand, ['primary', 'backup', 'both'] as const);
    const at = (which: 'primary' | 'backup'): number => (which === 'primary' ? primaryAt : backupLba * ss);
    const targets = copies === 'both' ? [at('primary'), at('backup')] : [at(copies)];
    const lastLba = b.length / ss - 1;
    const firstUsable = Number(b.readBigUInt64LE(primaryAt + 40));
    const related = [ss, backupLba * ss, 2 * ss, (lastLba - 32) * ss, lastLba * ss, firstUsable * ss, 2048 * ss, b.length];
    const header: Field[] = [
      { name: 'headerSize', offset: 12, width: 4, endian: 'le', extra: [91n, 92n, 93n, BigInt(ss), BigInt(ss + 1)] },
      { name: 'myLba', offset: 24, width: 8, endian: 'le', unit: ss, related },
      { name: 'alternateLba', offset: 32, width: 8, endian: 'le', unit: ss, related },
      { name: 'firstUsable', offset: 40, width: 8, endian: 'le', unit: ss, related },
      { name: 'lastUsable', offset: 48, width: 8, endian: 'le', unit: ss, related },
      { name: 'entriesLba', offset: 72, width: 8, endian: 'le', unit: ss, related },
      { name: 'entryCount', offset: 80, width: 4, endian: 'le', extra: [127n, 129n, 4096n, 1n << 20n, 1n << 24n] },
      { name: 'entrySize', offset: 84, width: 4, endian: 'le', extra: [64n, 96n, 127n, 129n, 256n, 512n, 4096n, 1n << 20n] },
    ];
    const labels: string[] = [];
    const rounds = 1 + below(rand, 2);
    for (let r = 0; r < rounds; r++) {
      if (rand() < 0.55) {
        const field = pick(rand, header);
        const value = boundary(rand, b, field, b.length);
        for (const t of targets) setUint(b, t + field.offset, field.width, field.endian, value);
        labels.push(`${copies} header ${field.name}=0x${value.toString(16)}`);
      } else {
        // Entry fields, in the array each target header names (entries 0-2 are used, 3+ empty).
        const slot = pick(rand, [0, 1, 2, 2, 3, 127]);
        const name = pick(rand, ['firstLba', 'lastLba', 'attributes'] as const);
        const offset = { firstLba: 32, lastLba: 40, attributes: 48 }[name];
        let value: bigint | undefined;
        for (const t of targets) {
          const entriesAt = Number(b.readBigUInt64LE(t + 72)) * ss;
          const size = b.readUInt32LE(t + 84);
          const e = entriesAt + slot * size;
          if (!Number.isSafeInteger(e) || e + 128 > b.length) continue;
          const field: Field = { name, offset: e + offset, width: 8, endian: 'le', unit: name === 'attributes' ? 1 : ss, related };
          value ??= boundary(rand, b, field, b.length);
          setUint(b, field.offset, 8, 'le', value);
          if (slot === 3 && rand() < 0.5) b.fill(0x11, e, e + 16); // an empty slot gets a type GUID, so it counts
        }
        labels.push(`${copies} entry ${slot} ${name}=0x${(value ?? 0n).toString(16)}`);
      }
    }
    for (const t of targets) if (t + ss <= b.length) fixGptCopy(b, t, ss);
    return labels.join(', ');
  };
}

// ---------------------------------------------------------------------------------------------
// VHD: footer (fixed and dynamic), dynamic header, BAT. Big-endian; checksums are the ones'
// complement of the byte sum with the checksum field taken as zero.

export function vhdChecksum(b: Buffer, at: number, length: number, field: number): void {
  b.writeUInt32BE(0, at + field);
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + b[at + i]!) >>> 0;
  b.writeUInt32BE(~sum >>> 0, at + field);
}

export function vhdMutator(dynamic: boolean): Mutator {
  return (rand, b) => {
    const tail = b.length - 512;
    const footers = dynamic ? pick(rand, [[0], [tail], [0, tail]]) : [tail];
    const headerAt = Number(b.readBigUInt64BE(tail + 16));
    const tableAt = dynamic ? Number(b.readBigUInt64BE(headerAt + 16)) : 0;
    const related = [0, 512, headerAt, tableAt, tail, b.length, 2 * MiB];
    const what = dynamic ? pick(rand, ['footer', 'footer', 'header', 'bat', 'bat', 'locator'] as const) : 'footer';
    if (what === 'footer') {
      const field = pick(rand, [
        { name: 'features', offset: 8, width: 4, endian: 'be' },
        { name: 'version', offset: 12, width: 4, endian: 'be' },
        { name: 'dataOffset', offset: 16, width: 8, endian: 'be', related },
        { name: 'originalSize', offset: 40, width: 8, endian: 'be', related },
        { name: 'currentSize', offset: 48, width: 8, endian: 'be', related, extra: [BigInt(tail - 512), BigInt(tail + 512), BigInt(2040 * 1024 * MiB)] },
        { name: 'cylinders', offset: 56, width: 2, endian: 'be' },
        { name: 'heads', offset: 58, width: 1, endian: 'be' },
        { name: 'sectorsPerTrack', offset: 59, width: 1, endian: 'be' },
        { name: 'diskType', offset: 60, width: 4, endian: 'be', extra: [2n, 3n, 4n, 5n] },
        { name: 'savedState', offset: 84, width: 1, endian: 'be' },
      ] satisfies Field[]);
      const value = boundary(rand, b, { ...field, offset: tail + field.offset }, b.length);
      for (const f of footers) {
        setUint(b, f + field.offset, field.width, 'be', value);
        vhdChecksum(b, f, 512, 64);
      }
      return `footer@${footers.join('+')} ${field.name}=0x${value.toString(16)}`;
    }
    if (what === 'header' || what === 'locator') {
      let label: string;
      if (what === 'header') {
        const field = pick(rand, [
          { name: 'dataOffset', offset: 8, width: 8, endian: 'be', related },
          { name: 'tableOffset', offset: 16, width: 8, endian: 'be', related },
          { name: 'headerVersion', offset: 24, width: 4, endian: 'be' },
          { name: 'maxTableEntries', offset: 28, width: 4, endian: 'be', extra: [7n, 8n, 9n, 1n << 24n, (1n << 24n) + 1n] },
          { name: 'blockSize', offset: 32, width: 4, endian: 'be', extra: [512n, 4096n, 1n << 20n, 2n << 20n, 1n << 31n, 3n << 20n] },
        ] satisfies Field[]);
        label = `dynamic header ${mutateField(rand, b, { ...field, offset: headerAt + field.offset }, b.length)}`;
      } else {
        // A parent locator entry (only read for differencing disks: the footer's type is made 4).
        const e = headerAt + 576 + below(rand, 8) * 24;
        b.write(pick(rand, ['W2ru', 'W2ku', 'MacX']), e, 'latin1');
        const field = pick(rand, [
          { name: 'locator.dataLength', offset: e + 8, width: 4, endian: 'be', related },
          { name: 'locator.dataOffset', offset: e + 16, width: 8, endian: 'be', related },
        ] satisfies Field[]);
        label = `parent locator ${mutateField(rand, b, field, b.length)}`;
        for (const f of [0, tail]) {
          b.writeUInt32BE(4, f + 60);
          vhdChecksum(b, f, 512, 64);
        }
      }
      vhdChecksum(b, headerAt, 1024, 36);
      return label;
    }
    const entries = b.readUInt32BE(headerAt + 28);
    const index = below(rand, Math.max(1, Math.min(entries, 16)));
    const field: Field = { name: `bat[${index}]`, offset: tableAt + index * 4, width: 4, endian: 'be', unit: 512, related: [...related, tail - 1, tail + 1] };
    return `BAT ${mutateField(rand, b, field, b.length)}`;
  };
}

// ---------------------------------------------------------------------------------------------
// VHDX: headers and region tables (CRC-32C at offset 4 over 4 KiB / 64 KiB), metadata, BAT.

