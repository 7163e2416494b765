import { attributesOf, recordOffset, refix, runsAt, unfix, type Geometry } from './ntfs-image.js';
import { below, boundary, pick, setUint, type Field, type Rand } from './fuzz-fields.js';

/**
 * A structure-aware mutator for NTFS images (test/fuzz-ntfs.test.ts), in the style of
 * fuzz-mutators.ts: it picks a field of a known structure (boot sector, MFT record header,
 * attribute header, runlist byte, attribute-list entry, INDX header or entry), writes a boundary
 * value into it, and re-applies the update-sequence fixups so the value reaches the code that
 * uses it (now and then it leaves them torn, or flips raw bytes, to test that path too).
 */
export interface NtfsMap {
  g: Geometry;
  /** Image offsets of in-use MFT records, by record number. */
  records: Map<number, number>;
  /** Records mutated more often: system files, the directories and files the test reads. */
  hot: number[];
  /** Image offsets of INDX blocks. */
  indx: number[];
  indexBlockSize: number;
  /** Attribute-list values: image offset, length, and the record holding them when resident. */
  lists: { at: number; length: number; record?: number }[];
}

export interface Mutation {
  what: string;
  /** Byte ranges changed, [offset, length], for restoring the image afterwards. */
  ranges: [number, number][];
}

/** In-use FILE records and INDX blocks of the image, found by their signatures. */
export function mapImage(b: Buffer, g: Geometry, hot: number[], indexBlockSize: number): NtfsMap {
  const records = new Map<number, number>();
  const total = g.mftRuns.reduce((n, [, , length]) => n + length, 0) * g.clusterSize / g.recordSize;
  for (let n = 0; n < total; n++) {
    const at = recordOffset(g, n);
    if (b.toString('latin1', at, at + 4) === 'FILE' && b.readUInt16LE(at + 0x16) & 1) records.set(n, at);
  }
  const indx: number[] = [];
  for (let at = 0; at + indexBlockSize <= b.length; at += Math.min(g.clusterSize, indexBlockSize)) {
    if (b.toString('latin1', at, at + 4) === 'INDX') indx.push(at);
  }
  const lists: NtfsMap['lists'] = [];
  for (const [n, at] of records) {
    unfix(b, at, g.recordSize);
    const list = attributesOf(b, at, g.recordSize).find((a) => a.type === 0x20);
    if (list && !list.nonResident) lists.push({ at: list.body, length: b.readUInt32LE(list.at + 0x10), record: n });
    if (list?.nonResident) lists.push({ at: runsAt(b, list.body)[0]!.lcn * g.clusterSize, length: Number(b.readBigUInt64LE(list.at + 0x30)) });
    refix(b, at, g.recordSize);
  }
  return { g, records, hot: hot.filter((n) => records.has(n)), indx, indexBlockSize, lists };
}

/**
 * Writes `value` at `o` only inside [lo, hi): a structure damaged by an earlier mutation of the
 * same case may point anywhere, and the test restores only the ranges a mutation declares.
 */
function put(b: Buffer, o: number, width: Field['width'], value: bigint, lo: number, hi: number): string {
  if (o < lo || o + width > hi) return ' (outside the structure: not written)';
  setUint(b, o, width, 'le', value);
  return '';
}

const u = (name: string, offset: number, width: 1 | 2 | 4 | 8, extra: number[] = []): Field => ({ name, offset, width, endian: 'le', extra: extra.map(BigInt) });

/** Mutates `b` in place and says what it did and where. */
export function mutateNtfs(rand: Rand, b: Buffer, map: NtfsMap): Mutation {
  const { g } = map;
  const what = pick(rand, ['boot', 'record', 'attribute', 'attribute', 'runlist', 'runlist', 'list', 'indx', 'indx', 'entry', 'raw'] as const);
  if (what === 'boot') {
    const field = pick(rand, [
      u('bytesPerSector', 0x0b, 2, [256, 1024, 4096, 8192]), u('sectorsPerCluster', 0x0d, 1, [0x80, 0xf4, 0xf8, 0xff, 3]), u('totalSectors', 0x28, 8),
      u('mftLcn', 0x30, 8, [0, 1, 2]), u('mftMirrLcn', 0x38, 8, [0, 4]), u('clustersPerMftRecord', 0x40, 1, [0xf6, 0xf0, 0xe1, 0x80, 2, 0x7f]),
      u('clustersPerIndexRecord', 0x44, 1, [0xf4, 0xf0, 0x09, 0x80]), u('serial', 0x48, 8),
    ]);
    const value = boundary(rand, b, field, b.length / 512);
    setUint(b, field.offset, field.width, 'le', value);
    return { what: `boot ${field.name}=0x${value.toString(16)}`, ranges: [[0, 512]] };
  }
  if (what === 'indx' || what === 'entry') return mutateIndx(rand, b, map, what === 'entry');
  if (what === 'list' && map.lists.length > 0) return mutateList(rand, b, map);
  const numbers = [...map.records.keys()];
  const n = rand() < 0.6 && map.hot.length ? pick(rand, map.hot) : pick(rand, numbers);
  const at = map.records.get(n)!;
  const rs = g.recordSize;
  if (what === 'raw') {
    const flips = 1 + below(rand, 8);
    for (let i = 0; i < flips; i++) b[at + below(rand, rs)] = below(rand, 256);
    return { what: `record ${n}: ${flips} raw bytes`, ranges: [[at, rs]] };
  }
  unfix(b, at, rs);
  const attributes = attributesOf(b, at, rs);
  let desc: string;
  if (what === 'record' || attributes.length === 0) {
    const field = pick(rand, [u('usaOffset', 4, 2), u('usaCount', 6, 2, [0, 1, 2, 3, 9]), u('sequence', 0x10, 2), u('attrsOffset', 0x14, 2, [0x30, 0x38, 0x3f, 0x400]),
      u('flags', 0x16, 2, [0, 1, 2, 3]), u('bytesInUse', 0x18, 4, [rs, rs + 1, 0x38]), u('baseRecord', 0x20, 8, [5, n, 0]), u('ownNumber', 0x2c, 4, [n + 1, 0])]);
    const value = boundary(rand, b, { ...field, offset: at + field.offset }, rs);
    setUint(b, at + field.offset, field.width, 'le', value);
    desc = `record ${n} ${field.name}=0x${value.toString(16)}`;
  } else if (what === 'runlist' && attributes.some((a) => a.nonResident)) {
    const a = pick(rand, attributes.filter((x) => x.nonResident));
    const runs = runsAt(b, a.body);
    const end = runs.length ? runs[runs.length - 1]!.offsetAt + runs[runs.length - 1]!.offsetWidth : a.body;
    const i = a.body + below(rand, Math.max(1, end - a.body + 1));
    const value = pick(rand, [0x00, 0xff, 0x7f, 0x80, 0x01, 0x11, 0x21, 0x08, 0x88, 0x0f, 0x90, below(rand, 256)]);
    desc = `record ${n} attribute 0x${a.type.toString(16)} runlist byte ${i - a.body}=0x${value.toString(16)}${put(b, i, 1, BigInt(value), at, at + rs)}`;
  } else {
    const a = pick(rand, attributes);
    const fields = [u('type', 0, 4, [0x20, 0x30, 0x80, 0x90, 0xa0, 0xffffffff]), u('length', 4, 4, [0x18, 0x10000, a.length + 8]), u('nonResident', 8, 1, [0, 1, 2]),
      u('nameLength', 9, 1, [4, 255]), u('nameOffset', 10, 2), u('flags', 12, 2, [0x0001, 0x4000, 0x8000]), u('instance', 14, 2)];
    if (a.nonResident) fields.push(u('lowestVcn', 0x10, 8), u('highestVcn', 0x18, 8, [-1]), u('mappingPairsOffset', 0x20, 2, [0x40, 0x48, a.length]), u('allocatedSize', 0x28, 8, [2 ** 52]), u('dataSize', 0x30, 8, [2 ** 52]), u('initializedSize', 0x38, 8));
    else fields.push(u('valueLength', 0x10, 4, [a.length]), u('valueOffset', 0x14, 2, [0x18, a.length]));
    const field = pick(rand, fields);
    const value = boundary(rand, b, { ...field, offset: a.at + field.offset }, rs);
    desc = `record ${n} attribute 0x${a.type.toString(16)} ${field.name}=0x${value.toString(16)}${put(b, a.at + field.offset, field.width, value, at, at + rs)}`;
  }
  if (rand() < 0.9) refix(b, at, rs);
  else desc += ' (fixups left torn)';
  return { what: desc, ranges: [[at, rs]] };
}

function mutateList(rand: Rand, b: Buffer, map: NtfsMap): Mutation {
  const list = pick(rand, map.lists);
  const recordAt = list.record === undefined ? undefined : map.records.get(list.record)!;
  if (recordAt !== undefined) unfix(b, recordAt, map.g.recordSize);
  const entries: number[] = [];
  for (let at = list.at; at + 0x1a <= list.at + list.length && entries.length < 256; at += b.readUInt16LE(at + 4) || list.length) entries.push(at);
  const e = pick(rand, entries);
  const field = pick(rand, [u('type', 0, 4, [0x20, 0x80, 0x30]), u('length', 4, 2, [0, 0x1a, 0x20, 0xffff]), u('nameLength', 6, 1, [4, 255]), u('nameOffset', 7, 1),
    u('lowestVcn', 8, 8), u('record', 0x10, 4, [0, 5, list.record ?? 0]), u('recordHigh16', 0x14, 2, [1]), u('instance', 0x18, 2)]);
  const value = boundary(rand, b, { ...field, offset: e + field.offset }, b.length);
  const written = put(b, e + field.offset, field.width, value, list.at, list.at + list.length);
  if (recordAt !== undefined) refix(b, recordAt, map.g.recordSize);
  return { what: `attribute list@${list.at} entry ${entries.indexOf(e)} ${field.name}=0x${value.toString(16)}${written}`, ranges: [[recordAt ?? list.at, recordAt !== undefined ? map.g.recordSize : list.length]] };
}

function mutateIndx(rand: Rand, b: Buffer, map: NtfsMap, entry: boolean): Mutation {
  const at = pick(rand, map.indx);
  const size = map.indexBlockSize;
  unfix(b, at, size);
  let desc: string;
  if (!entry) {
    const field = pick(rand, [u('usaCount', 6, 2, [0, 8, 10]), u('vcn', 0x10, 8), u('entriesOffset', 0x18, 4, [0, 0x10, 0x28, size]), u('indexLength', 0x1c, 4, [size, size - 0x18, size + 1, 0x10]),
      u('allocated', 0x20, 4, [size]), u('flags', 0x24, 1, [0, 1])]);
    const value = boundary(rand, b, { ...field, offset: at + field.offset }, size);
    setUint(b, at + field.offset, field.width, 'le', value);
    desc = `INDX@${at} ${field.name}=0x${value.toString(16)}`;
  } else {
    const entries: number[] = [];
    const end = at + 0x18 + b.readUInt32LE(at + 0x1c);
    for (let e = at + 0x18 + b.readUInt32LE(at + 0x18); e + 16 <= end && entries.length < 512; ) {
      entries.push(e);
      const length = b.readUInt16LE(e + 8);
      if (b.readUInt16LE(e + 12) & 2 || length === 0) break;
      e += length;
    }
    const e = pick(rand, entries.length ? entries : [at + 0x40]);
    const length = b.readUInt16LE(e + 8);
    const ownVcn = Number(b.readBigUInt64LE(at + 0x10));
    const field = pick(rand, [u('fileReference', 0, 4, [0, 5, 0xffffffff]), u('length', 8, 2, [0, 8, 16, 0x1000]), u('keyLength', 10, 2, [0, 0x42, 0xffff]), u('flags', 12, 2, [0, 1, 2, 3]),
      u('subNodeVcn', Math.max(16, length - 8), 8, [ownVcn, 0, 1]), u('nameLength', 16 + 0x40, 1, [0, 255]), u('namespace', 16 + 0x41, 1, [0, 1, 2, 3])]);
    const value = boundary(rand, b, { ...field, offset: e + field.offset }, size);
    desc = `INDX@${at} entry ${entries.indexOf(e)} ${field.name}=0x${value.toString(16)}${put(b, e + field.offset, field.width, value, at, at + size)}`;
  }
  if (rand() < 0.9) refix(b, at, size);
  else desc += ' (fixups left torn)';
  return { what: desc, ranges: [[at, size]] };
}
