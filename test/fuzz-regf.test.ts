import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBcd } from '../src/fs/bcd.js';
import { baseBlockChecksum } from '../src/fs/regf-base.js';
import { regBinary, regDword, regMultiSz, regQword, regSz } from '../src/fs/regf-data.js';
import { openHive, type Hive, type HiveKey } from '../src/fs/regf.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { SCRIPT, bcdReg, gptStore } from './helpers/bcd-reg.js';
import { haveTools, prng, run, tempDir } from './helpers/tools.js';

/**
 * Structure-aware fuzzing of the regf reader and the BCD decoder. A mutation picks a field of a
 * cell that is really there (a cell size, an nk's counts, list offsets and name length, a vk's
 * length, data offset and type, a subkey list's count and entries, a db's segment count and
 * list, an hbin header, the base block's root offset and bins size) and writes a boundary
 * value into it: 0, all ones, bit 31, the field ± 8, or the offset of another cell, of the cell
 * itself or of its parent (cycles). A few mutations flip random bytes inside allocated cells.
 * The base block checksum is recomputed most of the time so that the value reaches the walk.
 *
 * Each case opens the hive, walks every key recursively, reads every value through the typed
 * helpers, looks up a few paths and decodes the BCD. The only acceptable outcomes are values or
 * a VolumeUnreadable with a one-line reason; each case must end within CASE_MS.
 * REGF_FUZZ_CASES changes the number of cases per seed, REGF_FUZZ_SEED the seed.
 */
const CASES = Number(process.env.REGF_FUZZ_CASES ?? 400);
const SEED = Number(process.env.REGF_FUZZ_SEED ?? 0x4e6b);
const CASE_MS = 1000;

type Rand = () => number;
const below = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[below(rand, items.length)]!;

interface Field {
  /** File offset and width (bytes). */
  at: number;
  width: 2 | 4;
  name: string;
  /** The cell holding it (cell offset), for "point at yourself" values. */
  cell: number;
}

interface Layout {
  fields: Field[];
  /** Cell offsets of allocated cells, and of nk cells. */
  cells: number[];
  keys: number[];
  /** [from, to) file ranges of allocated cells' data. */
  data: [number, number][];
  /** The fields by kind, so that each kind is mutated about as often whatever its count. */
  pools: Map<FieldKind, Field[]>;
}

/** The allocated cells of a hive (known-good seed) and the fields worth mutating in each. */
function layout(b: Uint8Array): Layout {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fields: Field[] = [
    { at: 4, width: 4, name: 'base.primarySequence', cell: 0 },
    { at: 36, width: 4, name: 'base.rootCell', cell: 0 },
    { at: 40, width: 4, name: 'base.hiveBinsDataSize', cell: 0 },
  ];
  const cells: number[] = [];
  const keys: number[] = [];
  const data: [number, number][] = [];
  const end = 4096 + v.getUint32(40, true);
  for (let bin = 4096; bin < end; bin += v.getUint32(bin + 8, true)) {
    fields.push({ at: bin + 4, width: 4, name: `hbin@${bin - 4096}.offset`, cell: bin - 4096 }, { at: bin + 8, width: 4, name: `hbin@${bin - 4096}.size`, cell: bin - 4096 });
    for (let at = bin + 32; at < bin + v.getUint32(bin + 8, true); at += Math.abs(v.getInt32(at, true))) {
      if (v.getInt32(at, true) >= 0) continue;
      const cell = at - 4096;
      const d = at + 4;
      const sig = String.fromCharCode(b[d]!, b[d + 1]!);
      const f = (off: number, width: 2 | 4, name: string): void => void fields.push({ at: d + off, width, name: `${sig}@${cell}.${name}`, cell });
      cells.push(cell);
      data.push([d, at - v.getInt32(at, true)]);
      f(-4, 4, 'cellSize');
      if (sig === 'nk') {
        keys.push(cell);
        f(2, 2, 'flags');
        f(16, 4, 'parent');
        f(20, 4, 'subkeyCount');
        f(28, 4, 'subkeyList');
        f(36, 4, 'valueCount');
        f(40, 4, 'valueList');
        f(72, 2, 'nameLength');
      } else if (sig === 'vk') {
        f(2, 2, 'nameLength');
        f(4, 4, 'dataLength');
        f(8, 4, 'dataOffset');
        f(12, 4, 'type');
        f(16, 2, 'flags');
      } else if (['lf', 'lh', 'li', 'ri'].includes(sig)) {
        f(0, 2, 'signature');
        f(2, 2, 'count');
        const count = v.getUint16(d + 2, true);
        const width = sig === 'lf' || sig === 'lh' ? 8 : 4;
        for (let i = 0; i < Math.min(count, 4); i++) f(4 + i * width, 4, `entry${i}`);
        if (count > 4) f(4 + (count - 1) * width, 4, `entry${count - 1}`);
      } else if (sig === 'db') {
        f(2, 2, 'segments');
        f(4, 4, 'segmentList');
      }
    }
  }
  const pools = new Map<FieldKind, Field[]>();
  for (const f of fields) {
    const kind = fieldKind(f);
    if (!pools.has(kind)) pools.set(kind, []);
    pools.get(kind)!.push(f);
  }
  return { fields, cells, keys, data, pools };
}

type FieldKind = 'base' | 'nk' | 'vk' | 'list' | 'db' | 'size';

function fieldKind(f: Field): FieldKind {
  if (f.name.endsWith('.cellSize')) return 'size';
  if (f.name.startsWith('base.') || f.name.startsWith('hbin')) return 'base';
  if (/^(lf|lh|li|ri)@/.test(f.name)) return 'list';
  return f.name.startsWith('nk@') ? 'nk' : f.name.startsWith('vk@') ? 'vk' : f.name.startsWith('db@') ? 'db' : 'size';
}

/** Applies one or a few mutations; returns what was done (for the failure message). */
function mutate(rand: Rand, b: Uint8Array, l: Layout): string {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const done: string[] = [];
  for (let n = 1 + (rand() < 0.3 ? below(rand, 3) : 0); n > 0; n--) {
    if (rand() < 0.15) {
      const [from, to] = pick(rand, l.data);
      const at = from + below(rand, to - from);
      b[at] = below(rand, 256);
      done.push(`byte@${at}=${b[at]}`);
      continue;
    }
    const kind = pick(rand, ['base', 'nk', 'nk', 'vk', 'vk', 'list', 'list', 'list', 'db', 'size'] as const);
    const pool = l.pools.get(kind) ?? l.fields;
    const field = pick(rand, pool);
    const old = field.width === 2 ? v.getUint16(field.at, true) : v.getUint32(field.at, true);
    const max = field.width === 2 ? 0xffff : 0xffffffff;
    const parent = l.keys.includes(field.cell) ? v.getUint32(4096 + field.cell + 4 + 16, true) : 0;
    const value = pick<() => number>(rand, [
      () => 0,
      () => 1,
      () => max,
      () => (field.width === 2 ? 0x8000 : 0x80000000),
      () => (field.width === 2 ? 0x7fff : 0x7fffffff),
      () => (field.width === 2 ? old : 0x80000000 | below(rand, 9)),
      () => old + 8,
      () => old - 8,
      () => old + 1,
      () => old * 2 + 1,
      () => below(rand, max + 1),
      () => pick(rand, l.cells),
      () => pick(rand, l.keys),
      () => field.cell,
      () => parent,
      () => v.getUint32(40, true),
    ])();
    const stored = ((value % (max + 1)) + (max + 1)) % (max + 1);
    if (field.width === 2) v.setUint16(field.at, stored, true);
    else v.setUint32(field.at, stored, true);
    done.push(`${field.name}=0x${stored.toString(16)}`);
  }
  if (rand() < 0.9) v.setUint32(508, baseBlockChecksum(b), true);
  return done.join(' ');
}

/** Everything a consumer would do with a hive. */
async function exercise(bytes: Uint8Array): Promise<number> {
  const hive: Hive = await openHive(bytes);
  let work = 0;
  const visit = (key: HiveKey): void => {
    for (const value of hive.values(key)) {
      regSz(value);
      regMultiSz(value);
      regDword(value);
      regQword(value);
      regBinary(value);
      work += value.data.length;
    }
    for (const child of hive.subkeys(key)) visit(child);
    work++;
  };
  visit(hive.root);
  for (const path of ['Objects', 'Values', 'Many\\Key0123', 'Lists\\AsLi\\Beta', 'nothing\\here']) {
    const key = hive.lookup(path);
    if (key) for (const name of ['Big', 'Element', '']) hive.value(key, name);
  }
  try {
    const bcd = decodeBcd(hive);
    work += bcd.loaders.length + bcd.problems.length;
  } catch (e) {
    if (!(e instanceof VolumeUnreadable)) throw e;
  }
  return work;
}

describe.runIf(haveTools('python3', 'hivexregedit'))('regf fuzz', () => {
  const dir = tempDir('gptdoctor-regf-fuzz-');
  const seeds: Record<string, Uint8Array> = {};
  afterAll(() => dir.cleanup());
  beforeAll(() => {
    run('bash', [SCRIPT, '--sample', dir.path]);
    seeds.sample = new Uint8Array(readFileSync(join(dir.path, 'sample-relisted.hive')));
    writeFileSync(join(dir.path, 'bcd.reg'), bcdReg(gptStore()));
    run('bash', [SCRIPT, join(dir.path, 'bcd.hive'), 'BCD00000000', join(dir.path, 'bcd.reg')]);
    seeds.bcd = new Uint8Array(readFileSync(join(dir.path, 'bcd.hive')));
  });

  it.each(['bcd', 'sample'])('%s: every mutation ends in values or VolumeUnreadable, quickly', async (name) => {
    const seed = seeds[name]!;
    expect(await exercise(seed)).toBeGreaterThan(0);
    const l = layout(seed);
    const rand = prng(SEED + (name === 'bcd' ? 1 : 2));
    const failures: string[] = [];
    const outcomes: Record<string, number> = {};
    let slowest = 0;
    for (let i = 0; i < CASES && failures.length < 5; i++) {
      const bytes = seed.slice();
      const mutation = mutate(rand, bytes, l);
      const started = performance.now();
      try {
        await exercise(bytes);
        outcomes.read = (outcomes.read ?? 0) + 1;
      } catch (e) {
        if (e instanceof VolumeUnreadable && e.name === 'VolumeUnreadable' && e.reason.length > 10 && !e.reason.includes('\n')) {
          const kind = e.reason.replace(/0x[0-9A-F]+|\d+|"[^"]*"/g, '#').slice(0, 60);
          outcomes[kind] = (outcomes[kind] ?? 0) + 1;
        } else failures.push(`case ${i} (${mutation}): ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      if (ms > CASE_MS) failures.push(`case ${i} (${mutation}): took ${Math.round(ms)} ms`);
    }
    if (process.env.REGF_FUZZ_VERBOSE) console.log(name, Math.round(slowest), outcomes);
    expect(failures).toEqual([]);
    // the mutations must get past the checks often enough to test the walk, and be caught too
    expect(outcomes.read ?? 0).toBeGreaterThan(CASES / 10);
    expect(CASES - (outcomes.read ?? 0)).toBeGreaterThan(CASES / 10);
  }, 60_000);
});
