import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import CRC32 from 'crc-32';
import CRC32C from 'crc-32/crc32c.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLoaded } from '../src/check/check.js';
import { DiskError } from '../src/disk/block-source.js';
import { openDisk } from '../src/disk/open.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { inspectReport } from '../src/report/inspect-report.js';
import { canUseLoop, haveTools, prng, run, tempDir, withLoop } from './helpers/tools.js';

/**
 * Structure-aware fuzzing of every container gptdoctor reads. Random byte flips mostly die at a
 * CRC or a magic check; here a mutator picks a *field* of a known structure (GPT header and
 * entries, VHD footer / dynamic header / BAT, VHDX headers / region tables / metadata / BAT,
 * qcow2 header / L1 / L2, VMDK sparse header / grain directory / grain tables / descriptor),
 * writes a boundary value into it and recomputes every checksum over it, so that the value
 * reaches the code that uses it.
 *
 * Per case the only acceptable outcomes are a report or a DiskError with a documented code; and
 * each case must take under 2 s, grow the RSS by less than 256 MiB, and leave the file unchanged.
 * The seeds are made by independent tools (sgdisk, mkfs.vfat, qemu-img, gzip, losetup).
 *
 * About 1,500 cases by default; FUZZ_CASES=20000 runs more (by hand), FUZZ_SEED changes the seed.
 */
const MiB = 1024 * 1024;
const DISK_MIB = 16;
const TOTAL = Number(process.env.FUZZ_CASES ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 0xc047a1);
const CODES = new Set(['EFORMAT', 'ENOTDISK', 'ENOENT', 'EFBIG', 'ENOTSUP', 'EROFS']);
const CASE_MS = 2000;
const RSS_GROWTH = 256 * MiB;

type Endian = 'le' | 'be';
type Rand = () => number;
type Width = 1 | 2 | 4 | 8;

const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const below = (rand: Rand, n: number): number => Math.floor(rand() * n);

function getUint(b: Buffer, at: number, width: Width, endian: Endian): bigint {
  if (width === 1) return BigInt(b[at]!);
  if (width === 2) return BigInt(endian === 'le' ? b.readUInt16LE(at) : b.readUInt16BE(at));
  if (width === 4) return BigInt(endian === 'le' ? b.readUInt32LE(at) : b.readUInt32BE(at));
  return endian === 'le' ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
}

function setUint(b: Buffer, at: number, width: Width, endian: Endian, value: bigint): void {
  const v = BigInt.asUintN(width * 8, value);
  if (width === 1) b[at] = Number(v);
  else if (width === 2) endian === 'le' ? b.writeUInt16LE(Number(v), at) : b.writeUInt16BE(Number(v), at);
  else if (width === 4) endian === 'le' ? b.writeUInt32LE(Number(v), at) : b.writeUInt32BE(Number(v), at);
  else endian === 'le' ? b.writeBigUInt64LE(v, at) : b.writeBigUInt64BE(v, at);
}

/** A field of a structure: where it is, how wide, and in which unit its value counts (sectors, MiB…). */
interface Field {
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
function boundary(rand: Rand, b: Buffer, field: Field, fileSize: number): bigint {
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
function mutateField(rand: Rand, b: Buffer, field: Field, fileSize: number): string {
  const value = boundary(rand, b, field, fileSize);
  setUint(b, field.offset, field.width, field.endian, value);
  return `${field.name}=0x${value.toString(16)}`;
}

const crc32 = (bytes: Uint8Array): number => CRC32.buf(bytes) >>> 0;
const crc32c = (bytes: Uint8Array): number => CRC32C.buf(bytes) >>> 0;

// ---------------------------------------------------------------------------------------------
// GPT (inside a raw image), at 512 and 4096 bytes per sector.

/**
 * Recomputes one GPT copy's checksums after its fields changed: the entry-array CRC32 over the
 * array its (possibly mutated) header describes, when that array lies in the file, then the
 * header CRC32 over headerSize bytes with the CRC field zeroed (92 bytes when headerSize is absurd).
 */
function fixGptCopy(b: Buffer, at: number, ss: number): void {
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

function gptMutator(ss: number): Mutator {
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

function vhdChecksum(b: Buffer, at: number, length: number, field: number): void {
  b.writeUInt32BE(0, at + field);
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + b[at + i]!) >>> 0;
  b.writeUInt32BE(~sum >>> 0, at + field);
}

function vhdMutator(dynamic: boolean): Mutator {
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

const KiB = 1024;

function vhdxFix(b: Buffer, at: number, length: number): void {
  b.writeUInt32LE(0, at + 4);
  b.writeUInt32LE(crc32c(b.subarray(at, at + length)), at + 4);
}

function guidText(b: Buffer, at: number): string {
  const h = (from: number, to: number, reverse: boolean): string => {
    const bytes = [...b.subarray(at + from, at + to)];
    return (reverse ? bytes.reverse() : bytes).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`.toUpperCase();
}

const vhdxMutator: Mutator = (rand, b) => {
  const regionsAt = 192 * KiB;
  const count = b.readUInt32LE(regionsAt + 8);
  const regions = new Map<string, { entry: number; offset: number; length: number }>();
  for (let i = 0; i < count; i++) {
    const e = regionsAt + 16 + i * 32;
    regions.set(guidText(b, e), { entry: i, offset: Number(b.readBigUInt64LE(e + 16)), length: b.readUInt32LE(e + 24) });
  }
  const bat = regions.get('2DC27766-F623-4200-9D64-115E9BFD4A08')!;
  const meta = regions.get('8B7CA206-4790-4B9A-B8FE-575F050F886E')!;
  const items = new Map<string, { entry: number; offset: number }>();
  for (let i = 0; i < b.readUInt16LE(meta.offset + 10); i++) {
    const e = meta.offset + 32 + i * 32;
    items.set(guidText(b, e), { entry: i, offset: meta.offset + b.readUInt32LE(e + 16) });
  }
  const related = [0, 64 * KiB, 128 * KiB, 192 * KiB, 256 * KiB, MiB, bat.offset, meta.offset, b.length];
  const what = pick(rand, ['header', 'region', 'region', 'metadata', 'item', 'item', 'bat', 'bat'] as const);
  if (what === 'header') {
    const slots = pick(rand, [[64 * KiB], [128 * KiB], [64 * KiB, 128 * KiB]]);
    const field = pick(rand, [
      { name: 'sequenceNumber', offset: 8, width: 8, endian: 'le' },
      { name: 'logGuid', offset: 48, width: 8, endian: 'le' },
      { name: 'logVersion', offset: 64, width: 2, endian: 'le' },
      { name: 'version', offset: 66, width: 2, endian: 'le' },
      { name: 'logLength', offset: 68, width: 4, endian: 'le', related },
      { name: 'logOffset', offset: 72, width: 8, endian: 'le', related },
    ] satisfies Field[]);
    const value = boundary(rand, b, { ...field, offset: slots[0]! + field.offset }, b.length);
    for (const s of slots) {
      setUint(b, s + field.offset, field.width, 'le', value);
      vhdxFix(b, s, 4 * KiB);
    }
    return `header@${slots.map((s) => s / KiB).join('+')}K ${field.name}=0x${value.toString(16)}`;
  }
  if (what === 'region') {
    const tables = pick(rand, [[192 * KiB], [256 * KiB], [192 * KiB, 256 * KiB]]);
    const entry = below(rand, count + 1);
    const fields: Field[] = [
      { name: 'entryCount', offset: 8, width: 4, endian: 'le', extra: [2047n, 2048n] },
      { name: `region[${entry}].fileOffset`, offset: 16 + entry * 32 + 16, width: 8, endian: 'le', related },
      { name: `region[${entry}].length`, offset: 16 + entry * 32 + 24, width: 4, endian: 'le', related },
      { name: `region[${entry}].required`, offset: 16 + entry * 32 + 28, width: 4, endian: 'le' },
    ];
    const field = pick(rand, fields);
    const value = boundary(rand, b, { ...field, offset: tables[0]! + field.offset }, b.length);
    for (const t of tables) {
      setUint(b, t + field.offset, field.width, 'le', value);
      if (rand() < 0.2) b.copy(b, t + 16 + 32, t + 16, t + 32); // both entries name the same region
      vhdxFix(b, t, 64 * KiB);
    }
    return `region table@${tables.map((t) => t / KiB).join('+')}K ${field.name}=0x${value.toString(16)}`;
  }
  if (what === 'metadata') {
    const entry = below(rand, items.size + 1);
    const e = meta.offset + 32 + entry * 32;
    const field = pick(rand, [
      { name: 'entryCount', offset: meta.offset + 10, width: 2, endian: 'le', extra: [2047n, 2048n] },
      { name: `item[${entry}].offset`, offset: e + 16, width: 4, endian: 'le', related: [0, 64 * KiB, meta.length, meta.length - 4] },
      { name: `item[${entry}].length`, offset: e + 20, width: 4, endian: 'le', related: [0, 64 * KiB, meta.length, MiB + 1] },
      { name: `item[${entry}].flags`, offset: e + 24, width: 4, endian: 'le', extra: [2n, 4n, 6n] },
    ] satisfies Field[]);
    return `metadata table ${mutateField(rand, b, field, b.length)}`;
  }
  if (what === 'item') {
    const item = (id: string): number => items.get(id)!.offset;
    const field = pick(rand, [
      { name: 'blockSize', offset: item('CAA16737-FA36-4D43-B3B6-33F0AA44E76B'), width: 4, endian: 'le', extra: [MiB, 256 * MiB, 512 * MiB, 3 * MiB, 1].map(BigInt) },
      { name: 'fileParameters.flags', offset: item('CAA16737-FA36-4D43-B3B6-33F0AA44E76B') + 4, width: 4, endian: 'le', extra: [1n, 2n, 3n] },
      { name: 'virtualDiskSize', offset: item('2FA54224-CD1B-4876-B211-5DBED83BF4B8'), width: 8, endian: 'le', related, extra: [BigInt(64 * 1024 * 1024 * MiB), BigInt(64 * 1024 * 1024 * MiB + 1), 511n, 513n] },
      { name: 'logicalSectorSize', offset: item('8141BF1D-A96F-4709-BA47-F233A8FAAB5F'), width: 4, endian: 'le', extra: [512n, 4096n, 1024n] },
      { name: 'physicalSectorSize', offset: item('CDA348C7-445D-4471-9CC9-E9885251C556'), width: 4, endian: 'le', extra: [512n, 4096n, 1024n] },
    ] satisfies Field[]);
    return `metadata item ${mutateField(rand, b, field, b.length)}`;
  }
  // BAT entries: state in bits 0-2, file offset in MiB from bit 20.
  const index = below(rand, 24);
  const at = bat.offset + index * 8;
  if (rand() < 0.5) {
    const state = BigInt(pick(rand, [0, 1, 2, 3, 4, 5, 6, 6, 7, 7]));
    const mib = boundary(rand, b, { name: 'mib', offset: at, width: 8, endian: 'le', unit: MiB, related }, b.length) & ((1n << 44n) - 1n);
    b.writeBigUInt64LE((mib << 20n) | state, at);
    return `BAT[${index}] state=${state} offset=${mib} MiB`;
  }
  return `BAT ${mutateField(rand, b, { name: `bat[${index}]`, offset: at, width: 8, endian: 'le', related }, b.length)}`;
};

// ---------------------------------------------------------------------------------------------
// qcow2 (no checksums): header fields, header extensions, L1 and L2 entries. Big-endian.

const qcow2Mutator: Mutator = (rand, b) => {
  const clusterBits = b.readUInt32BE(20);
  const cluster = 2 ** clusterBits;
  const l1At = Number(b.readBigUInt64BE(40));
  const l1Size = b.readUInt32BE(36);
  const mask = 0x00ff_ffff_ffff_fe00n;
  const l2s: number[] = [];
  for (let i = 0; i < l1Size; i++) {
    const o = Number(b.readBigUInt64BE(l1At + i * 8) & mask);
    if (o) l2s.push(o);
  }
  const refcountAt = Number(b.readBigUInt64BE(48));
  const related = [0, 72, 104, cluster, l1At, refcountAt, ...l2s, b.length];
  const flags = [1n << 63n, 1n << 62n, 1n];
  const what = pick(rand, ['header', 'header', 'extension', 'l1', 'l2', 'l2', 'l2'] as const);
  if (what === 'header') {
    const field = pick(rand, [
      { name: 'version', offset: 4, width: 4, endian: 'be', extra: [2n, 3n, 4n] },
      { name: 'backingOffset', offset: 8, width: 8, endian: 'be', related },
      { name: 'backingSize', offset: 16, width: 4, endian: 'be', extra: [1n, 8n, 1023n, 1024n] },
      { name: 'clusterBits', offset: 20, width: 4, endian: 'be', extra: [8n, 9n, 12n, 20n, 21n, 22n, 31n] },
      { name: 'size', offset: 24, width: 8, endian: 'be', related, extra: [BigInt(Number.MAX_SAFE_INTEGER), 1n << 60n, 511n] },
      { name: 'cryptMethod', offset: 32, width: 4, endian: 'be' },
      { name: 'l1Size', offset: 36, width: 4, endian: 'be', extra: [32n * 1024n * 1024n, 32n * 1024n * 1024n + 1n, 0n, 1n] },
      { name: 'l1Offset', offset: 40, width: 8, endian: 'be', related },
      { name: 'refcountOffset', offset: 48, width: 8, endian: 'be', related },
      { name: 'incompatible', offset: 72, width: 8, endian: 'be', extra: [1n, 2n, 4n, 8n, 16n, 12n, 1n << 5n] },
      { name: 'headerLength', offset: 100, width: 4, endian: 'be', extra: [72n, 104n, 105n, 112n, BigInt(cluster), 4096n, 4104n] },
      { name: 'compressionType', offset: 104, width: 1, endian: 'be', extra: [0n, 1n, 2n] },
    ] satisfies Field[]);
    let label = `header ${mutateField(rand, b, field, b.length)}`;
    if (field.name === 'backingOffset' && rand() < 0.5) {
      // A backing name that resolves: the image itself (a loop), its raw seed, or a missing file.
      const name = pick(rand, ['case-qcow2', 'case-qcow2-compressed', 'seed.raw', 'seed.qcow2', 'missing.img', '../../../../dev/zero', 'seed.qcow2c', '.']);
      const at = 4096 - 64;
      b.write(name.padEnd(48, '\0'), at, 'latin1');
      b.writeBigUInt64BE(BigInt(at), 8);
      b.writeUInt32BE(name.length, 16);
      label = `header backing file "${name}"`;
    }
    return label;
  }
  if (what === 'extension') {
    // The extension area after the header: a "DATA" (external data file) or other extension.
    const at = b.readUInt32BE(4) === 3 ? b.readUInt32BE(100) : 72;
    const type = pick(rand, [0x44415441, 0xe2792aca, 0x6803f857, 0x23852875, 0x0537be77, 0]);
    b.writeUInt32BE(type, at);
    const field: Field = { name: 'extension.length', offset: at + 4, width: 4, endian: 'be', extra: [0n, 7n, 8n, 1023n, 1024n, BigInt(cluster - at - 8), BigInt(cluster - at - 7)] };
    const label = mutateField(rand, b, field, b.length);
    if (type === 0x44415441) b.write(pick(rand, ['seed.raw', 'missing.data', 'case-qcow2', 'seed.qcow2']), at + 8, 'latin1');
    if (rand() < 0.6) b.writeBigUInt64BE(b.readBigUInt64BE(72) | pick(rand, [4n, 8n, 12n]), 72);
    return `extension type 0x${type.toString(16)} ${label}`;
  }
  if (what === 'l1') {
    const index = below(rand, Math.max(1, l1Size + 1));
    const field: Field = { name: `l1[${index}]`, offset: l1At + index * 8, width: 8, endian: 'be', related, extra: related.map((o) => (1n << 63n) | BigInt(o)) };
    return `L1 ${mutateField(rand, b, field, b.length)}`;
  }
  // L2 entries: allocated ones (where data is), with flag bits and offsets, or compressed ones.
  const l2 = l2s.length ? pick(rand, l2s) : l1At;
  const used: number[] = [];
  for (let i = 0; i < cluster / 8; i++) if (b.readBigUInt64BE(l2 + i * 8) !== 0n) used.push(i);
  const index = used.length && rand() < 0.8 ? pick(rand, used) : below(rand, cluster / 8);
  const at = l2 + index * 8;
  const entry = b.readBigUInt64BE(at);
  if (entry & (1n << 62n) && rand() < 0.7) {
    // A compressed cluster: host offset in bits 0..x-1, (sectors - 1) in bits x..61.
    const x = 62n - BigInt(clusterBits - 8);
    const part = pick(rand, ['offset', 'sectors'] as const);
    const bits = part === 'offset' ? x : 62n - x;
    const choices = [0n, 1n, (1n << bits) - 1n, BigInt(b.length), BigInt(b.length - 1), BigInt(b.length + 512), 511n, 512n];
    const value = pick(rand, choices) & ((1n << bits) - 1n);
    const offset = part === 'offset' ? value : entry & ((1n << x) - 1n);
    const sectors = part === 'sectors' ? value : (entry >> x) & ((1n << (62n - x)) - 1n);
    b.writeBigUInt64BE((1n << 62n) | (sectors << x) | offset, at);
    return `L2 compressed[${index}] ${part}=0x${value.toString(16)}`;
  }
  const base = boundary(rand, b, { name: 'l2', offset: at, width: 8, endian: 'be', related }, b.length);
  const value = rand() < 0.5 ? (base & mask) | pick(rand, flags) : base;
  b.writeBigUInt64BE(value, at);
  return `L2[${index}]=0x${value.toString(16)}`;
};

// ---------------------------------------------------------------------------------------------
// VMDK hosted sparse extents (monolithicSparse, streamOptimized): header, grain directory and
// tables, and the embedded descriptor. Little-endian, no checksums.

function vmdkMutator(stream: boolean): Mutator {
  return (rand, b) => {
    // streamOptimized keeps the real header (with the grain directory offset) in its footer.
    const footerAt = b.length - 1024;
    const effective = stream ? footerAt : 0;
    const gdAt = Number(b.readBigUInt64LE(effective + 56)) * 512;
    const gtes = b.readUInt32LE(effective + 44);
    const descAt = Number(b.readBigUInt64LE(28)) * 512;
    const descSize = Number(b.readBigUInt64LE(36)) * 512;
    const gd: number[] = [];
    for (let i = 0; gdAt + i * 4 + 4 <= b.length && i < 64; i++) {
      const s = b.readUInt32LE(gdAt + i * 4);
      if (s) gd.push(s * 512);
    }
    const related = [0, 512, descAt, gdAt, ...gd.slice(0, 4), footerAt, b.length];
    const what = pick(rand, ['header', 'header', 'gd', 'gt', 'gt', 'descriptor'] as const);
    if (what === 'header') {
      const headers = stream ? pick(rand, [[0], [footerAt], [0, footerAt]]) : [0];
      const field = pick(rand, [
        { name: 'version', offset: 4, width: 4, endian: 'le', extra: [1n, 2n, 3n, 4n] },
        { name: 'flags', offset: 8, width: 4, endian: 'le', extra: [1n, 3n, 4n, 1n << 16n, (1n << 16n) | (1n << 17n)] },
        { name: 'capacity', offset: 12, width: 8, endian: 'le', unit: 512, related, extra: [1n << 32n, 1n << 44n, BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 512)) + 1n] },
        { name: 'grainSize', offset: 20, width: 8, endian: 'le', extra: [1n, 2n, 3n, 8n, 128n, 2048n, 4096n] },
        { name: 'descriptorOffset', offset: 28, width: 8, endian: 'le', unit: 512, related },
        { name: 'descriptorSize', offset: 36, width: 8, endian: 'le', extra: [1n, 20n, 128n, 129n, 1n << 40n] },
        { name: 'numGTEsPerGT', offset: 44, width: 4, endian: 'le', extra: [1n, 512n, 4096n, 4097n] },
        { name: 'rgdOffset', offset: 48, width: 8, endian: 'le', unit: 512, related },
        { name: 'gdOffset', offset: 56, width: 8, endian: 'le', unit: 512, related, extra: [0xffff_ffff_ffff_ffffn] },
        { name: 'overHead', offset: 64, width: 8, endian: 'le', unit: 512, related },
        { name: 'compressAlgorithm', offset: 77, width: 2, endian: 'le', extra: [0n, 1n, 2n] },
      ] satisfies Field[]);
      const value = boundary(rand, b, { ...field, offset: headers[0]! + field.offset }, b.length);
      for (const h of headers) setUint(b, h + field.offset, field.width, 'le', value);
      return `header@${headers.join('+')} ${field.name}=0x${value.toString(16)}`;
    }
    if (what === 'gd') {
      const index = below(rand, Math.max(1, gd.length + 1));
      return `GD ${mutateField(rand, b, { name: `gd[${index}]`, offset: gdAt + index * 4, width: 4, endian: 'le', unit: 512, related }, b.length)}`;
    }
    if (what === 'gt') {
      const gt = gd.length ? pick(rand, gd) : gdAt;
      const used: number[] = [];
      for (let i = 0; i < gtes && gt + i * 4 + 4 <= b.length; i++) if (b.readUInt32LE(gt + i * 4)) used.push(i);
      const index = used.length && rand() < 0.8 ? pick(rand, used) : below(rand, gtes);
      const field: Field = { name: `gt@${gt}[${index}]`, offset: gt + index * 4, width: 4, endian: 'le', unit: 512, related: [...related, b.length - 512, b.length - 1] };
      if (field.offset + 4 > b.length) return 'GT (none)';
      if (stream && rand() < 0.4) {
        // The grain's marker: its compressed length (12 bytes before the data: LBA u64, size u32).
        const grainAt = b.readUInt32LE(field.offset) * 512;
        if (grainAt && grainAt + 12 <= b.length) {
          return `grain marker ${mutateField(rand, b, { name: 'marker.size', offset: grainAt + 8, width: 4, endian: 'le', extra: [0n, 1n, 12n, 65536n, 131072n + 1024n, 131072n + 1025n] }, b.length)}`;
        }
      }
      return `GT ${mutateField(rand, b, field, b.length)}`;
    }
    // The embedded descriptor text: extent sizes, createType, parent lines.
    if (!descAt || !descSize) return 'descriptor (none)';
    const text = b.subarray(descAt, descAt + descSize).toString('latin1').replace(/\0[\s\S]*$/, '');
    const capacity = b.readBigUInt64LE(12);
    let changed: string;
    const edit = pick(rand, ['extent', 'createType', 'parent', 'parent', 'garbage'] as const);
    if (edit === 'extent') {
      const size = pick(rand, ['0', '1', String(capacity - 1n), String(capacity + 1n), '9007199254740993', '18446744073709551615', '99999999999999999999']);
      const type = pick(rand, ['SPARSE', 'FLAT', 'ZERO', 'VMFSSPARSE', 'SESPARSE', 'BOGUS']);
      const name = pick(rand, ['"case-vmdk-sparse"', '"missing.vmdk"', '""', '"seed.raw" 0', '"seed.raw" 99999999999']);
      changed = text.replace(/^(RW|RDONLY|NOACCESS)\s+\d+\s+\S+\s+"[^"]*".*$/m, `${pick(rand, ['RW', 'RDONLY', 'NOACCESS'])} ${size} ${type} ${name}`);
    } else if (edit === 'createType') {
      changed = text.replace(/^createType=.*$/m, `createType="${pick(rand, ['monolithicFlat', 'twoGbMaxExtentSparse', 'vmfs', 'streamOptimized', 'seSparse', 'x'.repeat(300)])}"`);
    } else if (edit === 'parent') {
      const hint = pick(rand, ['case-vmdk-sparse', 'case-vmdk-stream', 'seed.raw', 'seed.vmdk', 'seed.stream.vmdk', 'missing.vmdk', '', '/dev/zero', '.']);
      // The CID of the seed itself, so that a parent named here can prove to be the parent.
      const own = /^CID=(\S+)/m.exec(text)?.[1] ?? '12345678';
      const cid = pick(rand, [own, own, 'fffffffe', '00000000', 'ffffffff', 'zz']);
      changed = text.replace(/^parentCID=.*$/m, `parentCID=${cid}\nparentFileNameHint="${hint}"`);
    } else {
      const junk = Buffer.alloc(below(rand, descSize + 1), pick(rand, [0x41, 0x0a, 0x22, 0xff]));
      changed = text.slice(0, below(rand, text.length)) + junk.toString('latin1');
    }
    const bytes = Buffer.alloc(descSize);
    bytes.write(changed.slice(0, descSize), 'latin1');
    bytes.copy(b, descAt);
    return `descriptor ${edit}`;
  };
}

// ---------------------------------------------------------------------------------------------
// The seeds, the case runner and the per-format loops.

/** Mutates `b` (a copy of the seed) in place and describes the mutation. */
type Mutator = (rand: Rand, b: Buffer) => string;

interface Seed {
  name: string;
  file: string;
  bytes: Buffer;
  mutate: Mutator;
  /** Share of the cases. */
  weight: number;
}

interface Failure {
  format: string;
  seed: number;
  mutation: string;
  problem: string;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Writes into `path` (a copy of `seed`) the 64 KiB chunks where `work` differs from it; returns them. */
function syncChunks(path: string, work: Buffer, seed: Buffer): number[] {
  const chunk = 64 * KiB;
  const dirty: number[] = [];
  for (let at = 0; at < work.length; at += chunk) {
    const end = Math.min(at + chunk, work.length);
    if (!work.subarray(at, end).equals(seed.subarray(at, end))) dirty.push(at);
  }
  const fd = openSync(path, 'r+');
  try {
    for (const at of dirty) writeSync(fd, work, at, Math.min(chunk, work.length - at), at);
  } finally {
    closeSync(fd);
  }
  return dirty;
}

function restoreChunks(path: string, work: Buffer, seed: Buffer, dirty: number[]): void {
  const chunk = 64 * KiB;
  const fd = openSync(path, 'r+');
  try {
    for (const at of dirty) {
      const length = Math.min(chunk, work.length - at);
      seed.copy(work, at, at, at + length);
      writeSync(fd, seed, at, length, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads a few ranges spread over the virtual disk too, so BAT, L2 and grain entries are used. */
async function exercise(path: string, rand: Rand): Promise<void> {
  const source = await openDisk(path);
  try {
    const g = await loadGpt(source);
    await inspectReport(g);
    const report = await checkLoaded(g, path);
    if (!Array.isArray(report.findings)) throw new Error('the report has no findings array');
    for (let i = 0; i < 6; i++) {
      const at = i === 5 ? Math.max(0, source.size - 4096) : Math.floor(rand() * source.size);
      const got = await source.read(at, 64 * KiB);
      if (got.length > 64 * KiB) throw new Error(`read(${at}, 64 KiB) returned ${got.length} bytes`);
    }
  } finally {
    await source.close();
  }
}

/** How cases ended, per format: "report" or the DiskError code (printed at the end, to see that mutations get past the checks). */
const outcomes: Record<string, Record<string, number>> = {};
let outcomeKey = 'seed';
let lastMs = 0;
/** FUZZ_VERBOSE=1: how often each error message came, per format. */
const messages = new Map<string, number>();

/** Runs one case and returns why it failed, if it did. */
async function runCase(path: string, rand: Rand): Promise<string | undefined> {
  const before = sha256(path);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  let problem: string | undefined;
  const tally = (outcomes[outcomeKey] ??= {});
  try {
    await exercise(path, rand);
    tally.report = (tally.report ?? 0) + 1;
  } catch (err) {
    const code = err instanceof DiskError ? err.code : 'other';
    tally[code] = (tally[code] ?? 0) + 1;
    if (process.env.FUZZ_VERBOSE) {
      const key = `${outcomeKey}: ${String((err as Error).message).replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N')}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    if (process.env.FUZZ_REPLAY) console.log(err);
    if (!(err instanceof DiskError)) problem = `${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`;
    else if (!CODES.has(err.code)) problem = `DiskError ${err.code} (undocumented here): ${err.message}`;
    else if (err.message.length < 10) problem = `DiskError ${err.code} with no sentence: "${err.message}"`;
  } finally {
    clearInterval(sampler);
  }
  // Back to the event loop once: a promise left to reject on its own is reported now, for this case.
  await new Promise((resolve) => setImmediate(resolve));
  const ms = performance.now() - started;
  peak = Math.max(peak, process.memoryUsage().rss);
  tally.maxMs = Math.max(tally.maxMs ?? 0, Math.round(ms));
  lastMs = ms;
  tally.maxRssGrowthMiB = Math.max(tally.maxRssGrowthMiB ?? 0, Math.round((peak - rssBefore) / MiB));
  const problems = problem ? [problem] : [];
  if (ms > CASE_MS) problems.push(`took ${Math.round(ms)} ms`);
  if (peak - rssBefore > RSS_GROWTH) problems.push(`RSS grew by ${Math.round((peak - rssBefore) / MiB)} MiB`);
  if (sha256(path) !== before) problems.push('the file changed');
  return problems.length ? problems.join('; ') : undefined;
}

/** Failures of one class (format, field, exception) counted once, with the first seed to replay. */
function summarise(failures: Failure[]): string[] {
  const classes = new Map<string, { first: Failure; count: number }>();
  for (const f of failures) {
    const field = f.mutation.replace(/=0x[0-9a-f]+|\[\d+\]|@[\d+K]+| \d+ MiB|state=\d|offset=\d+/g, '');
    const problem = f.problem.replace(/\d+/g, 'N').replace(/\/tmp\/\S+/g, 'PATH').slice(0, 160);
    const key = `${f.format} | ${field} | ${problem}`;
    const c = classes.get(key);
    if (c) c.count++;
    else classes.set(key, { first: f, count: 1 });
  }
  return [...classes.values()].map(({ first, count }) => `${count}x ${first.format} seed=${first.seed} [${first.mutation}]: ${first.problem}`);
}

describe.runIf(haveTools('qemu-img', 'sgdisk', 'gzip', 'mkfs.vfat'))('structure-aware fuzzing of every container', () => {
  const dir = tempDir('gptdoctor-fuzz-');
  const at = (name: string): string => join(dir.path, name);
  const seeds = new Map<string, Seed>();
  const counts: Record<string, number> = {};
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    if (process.env.FUZZ_REPLAY) console.log('unhandled rejection', reason);
    unhandled.push(reason);
  };

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
    // The raw seed: three partitions, a FAT file system in the first, text and random data.
    const raw = at('seed.raw');
    writeFileSync(raw, '');
    truncateSync(raw, DISK_MIB * MiB);
    run('sgdisk', ['-n', '1:2048:+4M', '-t', '1:ef00', '-c', '1:EFI', '-n', '2:0:+6M', '-t', '2:8300', '-c', '2:data', '-n', '3:0:0', '-t', '3:0700', raw]);
    execFileSync('mkfs.vfat', ['--offset', '2048', raw, '4096'], { stdio: 'ignore' });
    const fd = openSync(raw, 'r+');
    const next = prng(7);
    const noise = Buffer.alloc(MiB);
    for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((next() * 2 ** 32) >>> 0, i);
    writeSync(fd, noise, 0, noise.length, 6 * MiB);
    const text = Buffer.from('gptdoctor fuzz seed: a line of text that compresses well\n'.repeat(20000));
    writeSync(fd, text, 0, text.length, 11 * MiB + 4096);
    closeSync(fd);
    const convert = (name: string, args: string[]): string => {
      run('qemu-img', ['convert', '-f', 'raw', ...args, raw, at(name)]);
      return at(name);
    };
    const add = (name: string, file: string, mutate: Mutator, weight: number): void => {
      seeds.set(name, { name, file, bytes: readFileSync(file), mutate, weight });
    };
    add('raw-512', raw, gptMutator(512), 250);
    add('vhd-fixed', convert('seed.vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on']), vhdMutator(false), 100);
    add('vhd-dynamic', convert('seed.dyn.vhd', ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on']), vhdMutator(true), 200);
    add('vhdx', convert('seed.vhdx', ['-O', 'vhdx', '-o', 'subformat=dynamic,block_size=1M']), vhdxMutator, 250);
    add('qcow2', convert('seed.qcow2', ['-O', 'qcow2']), qcow2Mutator, 160);
    add('qcow2-compressed', convert('seed.qcow2c', ['-O', 'qcow2', '-c']), qcow2Mutator, 120);
    add('vmdk-sparse', convert('seed.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse']), vmdkMutator(false), 150);
    add('vmdk-stream', convert('seed.stream.vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']), vmdkMutator(true), 120);
    // 4096-byte sectors: sgdisk on a file is 512 only, so the file is partitioned through a loop device.
    if (canUseLoop()) {
      const big = at('seed4k.raw');
      writeFileSync(big, '');
      truncateSync(big, DISK_MIB * MiB);
      withLoop(big, 4096, (device) => {
        run('sgdisk', ['-n', '1:256:+4M', '-t', '1:ef00', '-n', '2:0:+6M', '-t', '2:8300', '-n', '3:0:0', '-t', '3:0700', device]);
      });
      add('raw-4096', big, gptMutator(4096), 150);
    }
  }, 120_000);

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    dir.cleanup();
    console.log(`fuzz-containers cases: ${JSON.stringify(counts)}`);
    console.log(`fuzz-containers outcomes: ${JSON.stringify(outcomes)}`);
    if (process.env.FUZZ_VERBOSE) console.log([...messages].sort((a, b) => a[0].localeCompare(b[0])).map(([m, n]) => `${n}\t${m}`).join('\n'));
  });

  const totalWeight = 250 + 100 + 200 + 250 + 160 + 120 + 150 + 120 + 150;
  const budget = (weight: number): number => Math.max(1, Math.round((TOTAL * weight) / totalWeight));
  const timeout = Math.max(120_000, TOTAL * 200);

  /** Runs `cases` mutations of one seed, each on the seed's own file (restored after each case). */
  async function fuzz(name: string, cases: number, seedBase: number): Promise<Failure[]> {
    const seed = seeds.get(name)!;
    const path = at(`case-${name}`);
    writeFileSync(path, seed.bytes);
    const work = Buffer.from(seed.bytes);
    const failures: Failure[] = [];
    outcomeKey = name;
    // FUZZ_REPLAY=format:seed runs that one case (a failure's report names both).
    const [replayFormat, replaySeed] = (process.env.FUZZ_REPLAY ?? '').split(':');
    const replay = replayFormat === name ? [Number(replaySeed) - seedBase] : replayFormat ? [] : undefined;
    for (const i of replay ?? Array.from({ length: cases }, (_, k) => k)) {
      const caseSeed = seedBase + i;
      const rand = prng(caseSeed);
      let mutation: string;
      try {
        // Most cases change one field; some two or three, which no single check sees together.
        const rounds = name.startsWith('raw') ? 1 : pick(rand, [1, 1, 1, 1, 2, 2, 3]);
        mutation = Array.from({ length: rounds }, () => seed.mutate(rand, work)).join(' + ');
      } catch (err) {
        mutation = `(mutator stopped: ${(err as Error).message})`;
      }
      const dirty = syncChunks(path, work, seed.bytes);
      unhandled = [];
      const problem = await runCase(path, rand);
      if (problem) failures.push({ format: name, seed: caseSeed, mutation, problem });
      if (process.env.FUZZ_VERBOSE && lastMs > 300) console.log(`slow: ${name}:${caseSeed} ${Math.round(lastMs)} ms [${mutation}]`);
      for (const reason of unhandled) failures.push({ format: name, seed: caseSeed, mutation, problem: `unhandled rejection: ${String(reason)}` });
      restoreChunks(path, work, seed.bytes, dirty);
    }
    counts[name] = replay?.length ?? cases;
    return failures;
  }

  const formats = ['raw-512', 'raw-4096', 'vhd-fixed', 'vhd-dynamic', 'vhdx', 'qcow2', 'qcow2-compressed', 'vmdk-sparse', 'vmdk-stream'];
  for (const [n, name] of formats.entries()) {
    it(`${name}: every mutated field ends in a report or a documented DiskError`, async (ctx) => {
      const seed = seeds.get(name);
      if (!seed) return ctx.skip();
      outcomeKey = 'seed';
      // The unmutated seed reads cleanly: the mutations start from a sound disk.
      expect(await runCase(seed.file, prng(1))).toBeUndefined();
      const source = await openDisk(seed.file);
      try {
        const g = await loadGpt(source);
        expect([g.sectorSize, g.partitions.length, g.primary.valid, g.backup.valid]).toEqual([name === 'raw-4096' ? 4096 : 512, 3, true, true]);
      } finally {
        await source.close();
      }
      const failures = await fuzz(name, budget(seed.weight), SEED + n * 1_000_000);
      expect(summarise(failures)).toEqual([]);
    }, timeout);
  }

  it('a backing or parent name that resolves to a directory is a damaged image (EFORMAT), not EISDIR', async () => {
    const qcow2 = Buffer.from(seeds.get('qcow2')!.bytes);
    qcow2.write('.', 4000, 'latin1');
    qcow2.writeBigUInt64BE(4000n, 8);
    qcow2.writeUInt32BE(1, 16);
    writeFileSync(at('dir-backing.qcow2'), qcow2);
    const vmdk = Buffer.from(seeds.get('vmdk-sparse')!.bytes);
    const descAt = Number(vmdk.readBigUInt64LE(28)) * 512;
    const text = vmdk.subarray(descAt, descAt + 1024).toString('latin1');
    const cid = /^CID=(\S+)/m.exec(text)![1]!;
    vmdk.write(text.replace(/^parentCID=.*$/m, `parentCID=${cid}\nparentFileNameHint="."`).slice(0, 1024), descAt, 'latin1');
    writeFileSync(at('dir-parent.vmdk'), vmdk);
    for (const name of ['dir-backing.qcow2', 'dir-parent.vmdk']) {
      const err = await openDisk(at(name)).then(() => undefined, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(DiskError);
      expect((err as DiskError).code, name).toBe('EFORMAT');
      expect((err as DiskError).message).toMatch(/its backing file .* is a directory, not a disk image/);
    }
  });

  it('gzip: a mutated container inside, re-gzipped', async () => {
    const inner = ['raw-512', 'vhd-dynamic', 'vhdx', 'qcow2', 'vmdk-sparse', 'vhd-fixed'];
    const cases = process.env.FUZZ_REPLAY ? 0 : Math.max(20, Math.round(TOTAL / 75));
    const failures: Failure[] = [];
    const path = at('case.gz');
    // The unmutated seed, gzip'ed by gzip itself, reads cleanly.
    execFileSync('gzip', ['-k', '-1', at('seed.raw')]);
    outcomeKey = 'seed';
    expect(await runCase(at('seed.raw.gz'), prng(1))).toBeUndefined();
    outcomeKey = 'gzip';
    for (let i = 0; i < cases; i++) {
      const caseSeed = SEED + 99_000_000 + i;
      const rand = prng(caseSeed);
      const seed = seeds.get(pick(rand, inner))!;
      const work = Buffer.from(seed.bytes);
      let mutation = `${seed.name}: ${seed.mutate(rand, work)}`;
      let packed = gzipSync(work, { level: 1 });
      const damage = rand();
      if (damage < 0.15) {
        packed = packed.subarray(0, below(rand, packed.length));
        mutation += ', gzip stream cut short';
      } else if (damage < 0.3) {
        packed.writeUInt32LE((packed.readUInt32LE(packed.length - 8) ^ 1) >>> 0, packed.length - 8);
        mutation += ', gzip CRC wrong';
      }
      writeFileSync(path, packed);
      unhandled = [];
      const problem = await runCase(path, rand);
      if (problem) failures.push({ format: `gzip(${seed.name})`, seed: caseSeed, mutation, problem });
      for (const reason of unhandled) failures.push({ format: 'gzip', seed: caseSeed, mutation, problem: `unhandled rejection: ${String(reason)}` });
    }
    counts.gzip = cases;
    expect(summarise(failures)).toEqual([]);
  }, timeout);
});
