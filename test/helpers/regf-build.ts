import { baseBlockChecksum } from '../../src/fs/regf-base.js';

/**
 * Hand-made regf cells for the hostile-hive tests: takes the empty hive of
 * scripts/make-empty-hive.py (root nk at 0x20, its sk, then one free cell to the end of its one
 * 4,096-byte bin) and writes cells into that free space. Offsets are cell offsets
 * (from the first hive bin, file offset 4096). A second, larger bin may follow for big cells.
 */
export const ROOT = 0x20;

export class CellWriter {
  readonly bytes: Uint8Array;
  /** [next free offset, end] of each bin. */
  private readonly bins: [number, number][];

  /** `extraBin`: bytes of a second hive bin (a multiple of 4,096) for cells that need room. */
  constructor(emptyHive: Uint8Array, extraBin = 0) {
    this.bytes = new Uint8Array(emptyHive.length + extraBin);
    this.bytes.set(emptyHive);
    let free = 32; // the first free cell of the empty hive's one bin
    while (this.view().getInt32(4096 + free, true) < 0) free -= this.view().getInt32(4096 + free, true);
    this.bins = [[free, 0x1000]];
    if (extraBin > 0) {
      const at = emptyHive.length - 4096;
      this.bytes.set([0x68, 0x62, 0x69, 0x6e], 4096 + at);
      this.view().setUint32(4096 + at + 4, at, true);
      this.view().setUint32(4096 + at + 8, extraBin, true);
      this.view().setUint32(40, at + extraBin, true);
      this.bins.push([at + 32, at + extraBin]);
    }
  }

  private view(): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Writes an allocated cell holding `data` in the first bin with room; returns its offset. */
  add(data: Uint8Array | number[]): number {
    const d = data instanceof Uint8Array ? data : Uint8Array.from(data);
    const size = Math.ceil((4 + d.length) / 8) * 8;
    const bin = this.bins.find(([next, end]) => next + size <= end - 8);
    if (!bin) throw new Error('the hand-made hive is full');
    const at = bin[0];
    this.view().setInt32(4096 + at, -size, true);
    this.bytes.set(d, 4096 + at + 4);
    bin[0] += size;
    return at;
  }

  /** Sets a 32-bit field inside the cell at `cell` (`field` counts from after its size). */
  set32(cell: number, field: number, value: number): void {
    this.view().setUint32(4096 + cell + 4 + field, value >>> 0, true);
  }

  set16(cell: number, field: number, value: number): void {
    this.view().setUint16(4096 + cell + 4 + field, value, true);
  }

  /** The cell size field itself (negative: allocated). */
  setSize(cell: number, size: number): void {
    this.view().setInt32(4096 + cell, size, true);
  }

  /** Closes the bin with one free cell and fixes the base block checksum. */
  finish(): Uint8Array {
    for (const [next, end] of this.bins) this.view().setInt32(4096 + next, end - next, true);
    this.view().setUint32(508, baseBlockChecksum(this.bytes), true);
    return this.bytes;
  }
}

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export interface NkFields {
  parent?: number;
  subkeys?: number;
  subkeyList?: number;
  values?: number;
  valueList?: number;
  /** Overrides the name length field. */
  nameLength?: number;
}

/** An nk cell with an ASCII (compressed) name. */
export function nk(name: string, f: NkFields = {}): number[] {
  const head = [
    ...le16(0x6b6e), ...le16(0x20), ...new Array(8).fill(0), ...le32(0), ...le32(f.parent ?? ROOT),
    ...le32(f.subkeys ?? 0), ...le32(0), ...le32(f.subkeyList ?? 0xffffffff), ...le32(0xffffffff),
    ...le32(f.values ?? 0), ...le32(f.valueList ?? 0xffffffff), ...le32(0xffffffff), ...le32(0xffffffff),
    ...new Array(20).fill(0), ...le16(f.nameLength ?? name.length), ...le16(0),
  ];
  return [...head, ...[...name].map((c) => c.charCodeAt(0))];
}

export interface VkFields {
  type?: number;
  length?: number;
  dataOffset?: number;
  nameLength?: number;
}

export function vk(name: string, f: VkFields = {}): number[] {
  return [
    ...le16(0x6b76), ...le16(f.nameLength ?? name.length), ...le32(f.length ?? 0), ...le32(f.dataOffset ?? 0),
    ...le32(f.type ?? 3), ...le16(1), ...le16(0), ...[...name].map((c) => c.charCodeAt(0)),
  ];
}

/** A subkey list: lf and lh entries get a zero hint or hash, li and ri entries are offsets. */
export function list(signature: 'lf' | 'lh' | 'li' | 'ri', offsets: number[], count = offsets.length): number[] {
  const wide = signature === 'lf' || signature === 'lh';
  return [signature.charCodeAt(0), signature.charCodeAt(1), ...le16(count), ...offsets.flatMap((o) => (wide ? [...le32(o), ...le32(0)] : le32(o)))];
}

export function offsets(...values: number[]): number[] {
  return values.flatMap(le32);
}

export function db(segments: number, segmentList: number): number[] {
  return [0x64, 0x62, ...le16(segments), ...le32(segmentList), ...le32(0)];
}

/** Points the root key at a subkey list / value list. */
export function rootLists(w: CellWriter, f: { subkeys?: number; subkeyList?: number; values?: number; valueList?: number }): void {
  if (f.subkeys !== undefined) w.set32(ROOT, 20, f.subkeys);
  if (f.subkeyList !== undefined) w.set32(ROOT, 28, f.subkeyList);
  if (f.values !== undefined) w.set32(ROOT, 36, f.values);
  if (f.valueList !== undefined) w.set32(ROOT, 40, f.valueList);
}
