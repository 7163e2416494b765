import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ByteReader } from '../src/fs/byte-reader.js';
import { baseBlockChecksum } from '../src/fs/regf-base.js';
import { REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD, REG_SZ, regBinary, regDword, regMultiSz, regQword, regSz, regTypeName, type HiveValue } from '../src/fs/regf-data.js';
import { openHive, parseHive, type Hive, type HiveKey } from '../src/fs/regf.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { CellWriter, ROOT, db, list, nk, offsets, rootLists, vk } from './helpers/regf-build.js';
import { haveTools, run, runAll, tempDir } from './helpers/tools.js';

/**
 * The regf reader against hivex (hivexml, hivexregedit --export, hivexget, hivexsh) and libregf
 * (regfinfo, regfexport), on hives that hivexregedit fills from the empty hive of
 * scripts/make-empty-hive.py (scripts/make-test-hive.sh --sample). hivex writes only lh lists
 * and keeps values over 16,344 bytes in one cell; scripts/regf-relist.py rewrites the same
 * content with ri, li and lf lists and db big data, which libregf reads too.
 */
const SCRIPTS = new URL('../scripts/', import.meta.url).pathname;
const PREFIX = 'HKEY_LOCAL_MACHINE\\SAMPLE';

interface Walked {
  path: string;
  key: HiveKey;
  values: HiveValue[];
}

/** Every key depth-first in stored order, with its values. */
function walk(hive: Hive): Walked[] {
  const out: Walked[] = [];
  const visit = (key: HiveKey, path: string): void => {
    out.push({ path, key, values: hive.values(key) });
    for (const child of hive.subkeys(key)) visit(child, path ? `${path}\\${child.name}` : child.name);
  };
  visit(hive.root, '');
  return out;
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Allocated cells' signatures, counted: which list and data forms a hive uses. */
function cellKinds(bytes: Uint8Array): Record<string, number> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = 4096 + v.getUint32(40, true);
  const counts: Record<string, number> = {};
  for (let bin = 4096; bin < end; bin += v.getUint32(bin + 8, true)) {
    for (let at = bin + 32; at < bin + v.getUint32(bin + 8, true); ) {
      const size = v.getInt32(at, true);
      if (size < 0) {
        const sig = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!);
        const kind = ['nk', 'vk', 'sk', 'lf', 'lh', 'li', 'ri', 'db'].includes(sig) ? sig : 'data';
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      at += Math.abs(size);
    }
  }
  return counts;
}

/** regfinfo's "Key hierarchy": one line per key and value, indented by depth. */
function regfinfoTree(file: string): string[] {
  const out = run('regfinfo', [file]);
  return out.slice(out.indexOf('Key hierarchy\n') + 'Key hierarchy\n'.length).split('\n').filter((l) => l.trim() !== '');
}

function ourTree(keys: Walked[]): string[] {
  return keys.flatMap(({ key, values }) => [
    `${' '.repeat(key.depth)}(key:) ${key.name}`,
    ...values.map((v, i) => `${' '.repeat(key.depth + 1)}(value: ${i}) ${v.name || '(default)'}`),
  ]);
}

const unescapeXml = (s: string): string => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);

/** Key paths in document order from hivexml. */
function hivexmlPaths(file: string): string[] {
  // hivexml opens its output by name, which fails on the socket Node gives a child as stdout
  run('sh', ['-c', 'hivexml "$1" > "$1.xml"', 'hivexml', file]);
  const xml = readFileSync(`${file}.xml`, 'utf8');
  const stack: string[] = [];
  const paths: string[] = [];
  for (const m of xml.matchAll(/<node name="([^"]*)"( root="1")?|<\/node>/g)) {
    if (m[0] === '</node>') stack.pop();
    else {
      if (!m[2]) stack.push(unescapeXml(m[1]!));
      else stack.length = 0;
      paths.push(stack.join('\\'));
    }
  }
  return paths;
}

/**
 * hivexregedit --export: path → value name → "type:hex". Perl prints names below U+0100 as
 * Latin-1 bytes and wider ones as UTF-8, so each line is decoded as UTF-8 when it is valid.
 */
function exported(file: string): Map<string, Map<string, string>> {
  const raw = execFileSync('hivexregedit', ['--export', '--prefix', PREFIX, file, '\\'], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const keys = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i < raw.length && raw[i] !== 0x0a) continue;
    const bytes = raw.subarray(start, i);
    start = i + 1;
    let line: string;
    try {
      line = utf8.decode(bytes);
    } catch {
      line = bytes.toString('latin1');
    }
    const key = /^\[(.*)\]$/.exec(line);
    if (key) {
      keys.set(key[1]!.slice(PREFIX.length + 1), (current = new Map()));
      continue;
    }
    const value = /^(@|"((?:[^"\\]|\\.)*)")=(.*)$/.exec(line);
    if (!value) continue;
    const name = value[1] === '@' ? '' : value[2]!.replace(/\\(.)/g, '$1');
    const data = value[3]!;
    const dword = /^dword:([0-9a-f]{8})$/.exec(data);
    if (dword) current.set(name, `${REG_DWORD}:${Buffer.from(dword[1]!, 'hex').reverse().toString('hex')}`);
    else {
      const h = /^hex(?:\(([0-9a-f]+)\))?:(.*)$/.exec(data)!;
      current.set(name, `${h[1] ? parseInt(h[1], 16) : REG_BINARY}:${h[2]!.replace(/,/g, '')}`);
    }
  }
  return keys;
}

interface Exported {
  type: string;
  size: number;
  text?: string;
  hex?: string;
}

/** regfexport: path → value name → type, size and data (text, number or hex dump). */
function regfexport(file: string): Map<string, Map<string, Exported>> {
  const lines = run('regfexport', [file]).split('\n');
  const keys = new Map<string, Map<string, Exported>>();
  let current = new Map<string, Exported>();
  let value: Exported | undefined;
  let name = '';
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^Key path: (.*)$/.exec(line))) keys.set(m[1]!.replace(/^SAMPLE\\?/, ''), (current = new Map()));
    else if ((m = /^Value: \d+ (.*)$/.exec(line))) {
      name = m[1] === '(default)' ? '' : m[1]!;
      current.set(name, (value = { type: '', size: -1 }));
    } else if (value && (m = /^Type: .*\((REG_\w+?)(?:_LITTLE_ENDIAN)?\)$/.exec(line))) value.type = m[1]!;
    else if (value && (m = /^Data size: (\d+)$/.exec(line))) value.size = Number(m[1]);
    else if (value && (m = /^Data: (.+)$/.exec(line))) value.text = m[1]!;
    else if (value && /^[0-9a-f]{8}: /.test(line)) value.hex = (value.hex ?? '') + line.slice(10, 59).replace(/ /g, '');
  }
  return keys;
}

describe.runIf(haveTools('python3', 'hivexregedit', 'hivexsh', 'hivexml', 'hivexget', 'regfinfo', 'regfexport'))('regf reader against hivex and libregf', () => {
  const dir = tempDir('gptdoctor-regf-');
  const sample = join(dir.path, 'sample.hive');
  const relisted = join(dir.path, 'sample-relisted.hive');
  const empty = join(dir.path, 'empty.hive');
  const hives: Record<string, Hive> = {};
  afterAll(() => dir.cleanup());
  beforeAll(async () => {
    run('bash', [join(SCRIPTS, 'make-test-hive.sh'), '--sample', dir.path]);
    run('python3', [join(SCRIPTS, 'make-empty-hive.py'), empty, 'BCD00000000']);
    for (const file of [sample, relisted]) hives[file] = await openHive(new Uint8Array(readFileSync(file)));
  });

  it('the empty hive of make-empty-hive.py opens in hivexsh, regfinfo and here', async () => {
    const shell = runAll('hivexsh', [empty], 'ls\nlsval\n');
    expect(shell.status).toBe(0);
    expect(shell.output.trim()).toBe('');
    expect(regfinfoTree(empty)).toEqual(['(key:) BCD00000000']);
    const hive = await openHive(new Uint8Array(readFileSync(empty)));
    expect(hive.root.name).toBe('BCD00000000');
    expect(hive.subkeys(hive.root)).toEqual([]);
    expect(hive.values(hive.root)).toEqual([]);
    expect(hive.problems).toEqual([]);
    expect([hive.major, hive.minor]).toEqual([1, 5]);
  });

  it('hivex writes lh lists only; the relisted hive holds ri, li, lf, lh and db cells', () => {
    const made = cellKinds(new Uint8Array(readFileSync(sample)));
    expect(made.lh).toBeGreaterThan(0);
    expect([made.lf, made.li, made.ri, made.db]).toEqual([undefined, undefined, undefined, undefined]);
    const rewritten = cellKinds(new Uint8Array(readFileSync(relisted)));
    expect(rewritten).toMatchObject({ ri: 1, db: 1 });
    expect(rewritten.li).toBeGreaterThanOrEqual(2); // Many's first third, and Lists\AsLi
    expect(rewritten.lf).toBeGreaterThanOrEqual(2);
    expect(rewritten.lh).toBeGreaterThanOrEqual(1);
  });

  it('keys and value names, in stored order, match regfinfo (libregf) on the relisted hive', () => {
    const keys = walk(hives[relisted]!);
    expect(keys.length).toBe(714);
    expect(hives[relisted]!.problems).toEqual([]);
    expect(hives[sample]!.problems).toEqual([]);
    expect(ourTree(keys)).toEqual(regfinfoTree(relisted));
    expect(ourTree(walk(hives[sample]!))).toEqual(ourTree(keys));
  });

  it.each(['sample', 'sample-relisted'])('%s: key paths match hivexml', (name) => {
    const file = join(dir.path, `${name}.hive`);
    expect(walk(hives[file]!).map((k) => k.path)).toEqual(hivexmlPaths(file));
  });

  it.each(['sample', 'sample-relisted'])('%s: every value type and byte matches hivexregedit --export', (name) => {
    const file = join(dir.path, `${name}.hive`);
    const oracle = exported(file);
    const ours = new Map(walk(hives[file]!).map((k) => [k.path, new Map(k.values.map((v) => [v.name, `${v.type}:${toHex(v.data)}`]))]));
    expect(ours.size).toBe(oracle.size);
    for (const [path, values] of oracle) expect(ours.get(path), path).toEqual(values);
  });

  it('the relisted hive (ri, li, lf, db) matches regfexport: types, sizes, text, numbers and bytes', () => {
    const oracle = regfexport(relisted);
    const keys = walk(hives[relisted]!);
    expect(keys.map((k) => k.path)).toEqual([...oracle.keys()]);
    let compared = 0;
    for (const { path, values } of keys) {
      const theirs = oracle.get(path)!;
      expect([...theirs.keys()], path).toEqual(values.map((v) => v.name));
      for (const v of values) {
        const t = theirs.get(v.name)!;
        expect(t.type, `${path}\\${v.name}`).toBe(regTypeName(v.type));
        expect(t.size).toBe(v.data.length);
        if (v.type === REG_SZ || v.type === 2) expect(t.text).toBe(regSz(v));
        else if (v.type === REG_DWORD) expect(t.text).toBe(String(regDword(v)));
        else if (v.type === REG_QWORD) expect(t.text).toBe(String(regQword(v)));
        else if (v.data.length > 0) expect(t.hex).toBe(toHex(v.data));
        compared++;
      }
    }
    expect(compared).toBe(20);
  });

  it('libregf refuses hivex\'s single-cell 20,000-byte value in a 1.5 hive; hivex and this reader read it', () => {
    const big = hives[sample]!.value(hives[sample]!.lookup('Values')!, 'Big')!;
    expect(big.data.length).toBe(20000);
    for (const tool of ['regfexport', 'regfinfo']) expect(runAll(tool, [sample]).output).toMatch(/unsupported data block key signature/);
    const viaHivex = execFileSync('hivexget', [sample, '\\Values', 'Big']);
    expect(toHex(big.data)).toBe(viaHivex.toString('hex'));
    const relistedBig = hives[relisted]!.value(hives[relisted]!.lookup('Values')!, 'Big')!;
    expect(toHex(relistedBig.data)).toBe(execFileSync('hivexget', [relisted, '\\Values', 'Big']).toString('hex'));
  });

  it('hivexget and hivexsh agree on single values and listings', () => {
    const hive = hives[relisted]!;
    const values = hive.lookup('\\Values')!;
    expect(String(regDword(hive.value(values, 'Dword')!))).toBe(run('hivexget', [relisted, '\\Values', 'Dword']).trim());
    expect(regSz(hive.value(values, 'Str')!)).toBe(run('hivexget', [relisted, '\\Values', 'Str']).trim());
    expect(regMultiSz(hive.value(values, 'Multi')!)).toEqual(run('hivexget', [relisted, '\\Values', 'Multi']).trim().split('\n'));
    const unicode = hive.lookup('Ünïcødé ключ')!;
    expect(regSz(hive.value(unicode, '値')!)).toBe(run('hivexget', [relisted, '\\Ünïcødé ключ', '値']).trim());
    const listing = run('hivexsh', [relisted], 'cd \\Lists\\AsLi\nls\ncd \\Many\nls\n').trim().split('\n');
    const ours = [...hive.subkeys(hive.lookup('Lists\\AsLi')!), ...hive.subkeys(hive.lookup('Many')!)].map((k) => k.name);
    expect(ours).toEqual(listing);
    expect(ours.length).toBe(703);
  });

  it('looks keys and values up case-insensitively, as Windows does for ASCII and basic Unicode', () => {
    const hive = hives[relisted]!;
    expect(hive.lookup('many\\KEY0642')?.name).toBe('Key0642');
    expect(hive.lookup('\\MANY\\key0000\\')?.name).toBe('Key0000');
    expect(hive.lookup('ÜNÏCØDÉ КЛЮЧ')?.name).toBe('Ünïcødé ключ');
    expect(hive.lookup('café')?.name).toBe('Café');
    expect(hive.lookup('Many\\Key0700')).toBeUndefined();
    expect(hive.lookup('')).toBe(hive.root);
    const values = hive.lookup('Values')!;
    expect(regSz(hive.value(values, 'STR')!)).toBe('hello world');
    expect(regSz(hive.value(values, '')!)).toBe('the default value');
    expect(hive.value(values, 'nothing')).toBeUndefined();
    expect(regSz(hive.value(hive.lookup('CAFÉ')!, 'CRÈME')!)).toBe('brûlée');
    expect(regDword(hive.value(hive.lookup('Many\\Key0107')!, 'index')!)).toBe(107);
  });

  it('typed helpers: REG_SZ strips the NUL, REG_MULTI_SZ stops at the empty string, wrong types give undefined', () => {
    const hive = hives[relisted]!;
    const values = hive.lookup('Values')!;
    const get = (n: string): HiveValue => hive.value(values, n)!;
    expect(regSz(get('Expand'))).toBe('%SystemRoot%\\system32');
    expect(regMultiSz(get('Multi'))).toEqual(['first', 'second']);
    expect(regQword(get('Qword'))).toBe(0x0123456789abcdefn);
    expect(regDword(get('Dword'))).toBe(0x12345678);
    expect(regBinary(get('Bin'))).toEqual(Uint8Array.from([1, 2, 3, 4, 5]));
    expect(regBinary(get('Empty'))).toEqual(new Uint8Array(0));
    expect([regSz(get('Bin')), regDword(get('Str')), regMultiSz(get('Str')), regBinary(get('Str')), regQword(get('Dword'))]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(get('Multi').type).toBe(REG_MULTI_SZ);
    const dword: HiveValue = { name: 'd', type: 5, data: Uint8Array.from([0x12, 0x34, 0x56, 0x78]) };
    expect(regDword(dword)).toBe(0x12345678);
  });

  it('reads through a ByteReader that returns short reads, and reads only the declared hive', async () => {
    const bytes = new Uint8Array(readFileSync(relisted));
    let asked = 0;
    const reader: ByteReader = {
      size: bytes.length + 1024 * 1024, // slack after the hive is never read
      read: async (offset, length) => {
        asked = Math.max(asked, offset + length);
        return bytes.slice(offset, Math.min(offset + Math.min(length, 777), bytes.length));
      },
    };
    const hive = await openHive(reader);
    expect(ourTree(walk(hive))).toEqual(ourTree(walk(hives[relisted]!)));
    expect(asked).toBeLessThanOrEqual(bytes.length);
  });

  it('reports a dirty hive, a wrong checksum and a truncated file as problems, not failures', async () => {
    const bytes = new Uint8Array(readFileSync(sample));
    const dirty = bytes.slice();
    dirty[4]! += 1; // primary sequence number
    new DataView(dirty.buffer).setUint32(508, baseBlockChecksum(dirty), true);
    const d = await openHive(dirty);
    const [primary, secondary] = [dirty[4]!, dirty[8]!];
    expect(primary).not.toBe(secondary);
    expect(d.problems).toEqual([`sequence numbers ${primary} and ${secondary} differ: the hive was not written cleanly (dirty), and its .LOG files may hold newer data`]);
    expect(walk(d).length).toBe(714);
    const unsummed = bytes.slice();
    unsummed[508]! ^= 0xff;
    expect((await openHive(unsummed)).problems).toEqual([expect.stringMatching(/^the base block checksum is 0x[0-9A-F]+; its bytes give 0x/)]);
    const cut = await openHive(bytes.slice(0, 4096 + 64 * 1024 + 100));
    expect(cut.problems).toEqual([expect.stringMatching(/^the hive holds 69732 bytes of the \d+ its base block declares$/), expect.stringMatching(/runs past the end of the hive data/)]);
    expect(() => walk(cut)).toThrow(VolumeUnreadable);
  });
});

describe('regf checksum', () => {
  it('is the XOR of the first 127 dwords; 0 becomes 1 and 0xFFFFFFFF becomes 0xFFFFFFFE', () => {
    const b = new Uint8Array(512);
    expect(baseBlockChecksum(b)).toBe(1);
    b.set([0xff, 0xff, 0xff, 0xff]);
    expect(baseBlockChecksum(b)).toBe(0xfffffffe);
    b.set([0x78, 0x56, 0x34, 0x12, 0x01], 8);
    expect(baseBlockChecksum(b)).toBe(0xedcba986); // 0xFFFFFFFF ^ 0x12345678 ^ 0x00000001
    b[508] = 0x55; // the checksum field itself is not summed
    expect(baseBlockChecksum(b)).toBe(0xedcba986);
  });
});

describe.runIf(haveTools('python3'))('regf reader on hostile hand-made hives', () => {
  const dir = tempDir('gptdoctor-regf-');
  let emptyHive: Uint8Array;
  afterAll(() => dir.cleanup());
  beforeAll(() => {
    const file = join(dir.path, 'empty.hive');
    run('python3', [join(SCRIPTS, 'make-empty-hive.py'), file, 'ROOT']);
    emptyHive = new Uint8Array(readFileSync(file));
  });

  /** Opens and walks everything, reading every value. */
  async function readAll(bytes: Uint8Array): Promise<number> {
    return walk(await openHive(bytes)).length;
  }

  const segment = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

  it('reads hand-made ri, li and lf lists and db big data (the positive counterpart)', async () => {
    const w = new CellWriter(emptyHive, 40960);
    const a = w.add(nk('a'));
    const b = w.add(nk('b'));
    const c = w.add(nk('c'));
    const li = w.add(list('li', [a]));
    const lf = w.add(list('lf', [b, c]));
    const ri = w.add(list('ri', [li, lf]));
    const s1 = w.add(segment(16344, 1));
    const s2 = w.add(segment(100, 2));
    const segList = w.add(offsets(s1, s2));
    const big = w.add(db(2, segList));
    const value = w.add(vk('big', { length: 16344 + 50, dataOffset: big }));
    const resident = w.add(vk('r', { type: REG_DWORD, length: 0x80000004, dataOffset: 0x11223344 }));
    const values = w.add(offsets(value, resident));
    rootLists(w, { subkeys: 3, subkeyList: ri, values: 2, valueList: values });
    const hive = await openHive(w.finish());
    expect(hive.subkeys(hive.root).map((k) => k.name)).toEqual(['a', 'b', 'c']);
    const [bigValue, residentValue] = hive.values(hive.root);
    expect(bigValue!.data.length).toBe(16394);
    expect(bigValue!.data.subarray(16340, 16348)).toEqual(Uint8Array.from([1, 1, 1, 1, 2, 2, 2, 2]));
    expect(regDword(residentValue!)).toBe(0x11223344);
    expect(hive.values(hive.root)[0]!.data.buffer).toBe(bigValue!.data.buffer); // assembled once
  });

  interface Case {
    name: string;
    build: (w: CellWriter) => void;
    reason: RegExp;
    extraBin?: number;
  }

  const cases: Case[] = [
    { name: 'root cell outside the bins', build: (w) => new DataView(w.bytes.buffer).setUint32(36, 0x10000, true), reason: /^the root key: the cell at 0x10000 lies outside the hive bins/ },
    { name: 'root cell not aligned', build: (w) => new DataView(w.bytes.buffer).setUint32(36, 0x24, true), reason: /not 8-byte aligned/ },
    { name: 'root cell in the bin header', build: (w) => new DataView(w.bytes.buffer).setUint32(36, 0x8, true), reason: /lies in the header of the hive bin/ },
    {
      name: 'root is not an nk',
      build: (w) => new DataView(w.bytes.buffer).setUint32(36, new DataView(w.bytes.buffer).getUint32(4096 + ROOT + 4 + 44, true), true),
      reason: /the cell at 0x78 is not a key \(signature "sk"/,
    },
    { name: 'a cell whose size runs past its bin', build: (w) => w.setSize(ROOT, -0x2000), reason: /\(8192 bytes\) runs past its hive bin, which ends at 0x1000/ },
    { name: 'a cell size not a multiple of 8', build: (w) => w.setSize(ROOT, -0x5c), reason: /has size 92, not a multiple of 8/ },
    {
      name: 'a free cell referenced',
      build: (w) => {
        const li = w.add(list('li', [0xf00]));
        rootLists(w, { subkeys: 1, subkeyList: li });
      },
      reason: /the cell at 0xF00 is free/,
    },
    { name: 'a key name longer than its cell', build: (w) => w.set16(ROOT, 72, 300), reason: /the key at 0x20 has a 300-byte name that runs past its cell/ },
    {
      name: 'an ri list that lists itself',
      build: (w) => {
        const ri = w.add(list('ri', [0]));
        w.set32(ri, 4, ri);
        rootLists(w, { subkeys: 1, subkeyList: ri });
      },
      reason: /the ri list at 0x[0-9A-F]+ lists itself/,
    },
    {
      name: 'an ri list inside an ri list (ri → ri → ri loop)',
      build: (w) => {
        const a = w.add(list('ri', [0]));
        const b = w.add(list('ri', [a]));
        w.set32(a, 4, b);
        rootLists(w, { subkeys: 1, subkeyList: a });
      },
      reason: /the ri list at 0x[0-9A-F]+ lies inside the ri list at/,
    },
    {
      name: 'an ri list naming one list twice',
      build: (w) => {
        const child = w.add(nk('child'));
        const li = w.add(list('li', [child]));
        const ri = w.add(list('ri', [li, li]));
        rootLists(w, { subkeys: 2, subkeyList: ri });
      },
      reason: /names the list at 0x[0-9A-F]+ twice/,
    },
    {
      name: 'a key listing itself as its subkey',
      build: (w) => rootLists(w, { subkeys: 1, subkeyList: w.add(list('lh', [ROOT])) }),
      reason: /the list names the key at 0x20, which contains it \(a cycle\)/,
    },
    {
      name: 'a subkey listing its parent',
      build: (w) => {
        const back = w.add(list('li', [ROOT]));
        const child = w.add(nk('child', { subkeys: 1, subkeyList: back }));
        rootLists(w, { subkeys: 1, subkeyList: w.add(list('lf', [child])) });
      },
      reason: /the subkeys of "child": the list names the key at 0x20, which contains it/,
    },
    {
      name: 'a key listed twice',
      build: (w) => {
        const child = w.add(nk('child'));
        rootLists(w, { subkeys: 2, subkeyList: w.add(list('li', [child, child])) });
      },
      reason: /names the key at 0x[0-9A-F]+ twice/,
    },
    {
      name: 'a subkey whose parent field names another key',
      build: (w) => rootLists(w, { subkeys: 1, subkeyList: w.add(list('li', [w.add(nk('child', { parent: 0x1230 }))])) }),
      reason: /key "child" at 0x[0-9A-F]+ names 0x1230 as its parent, not the key at 0x20/,
    },
    {
      name: 'a list count beyond its cell',
      build: (w) => rootLists(w, { subkeys: 50, subkeyList: w.add(list('li', [w.add(nk('child'))], 50)) }),
      reason: /claims 50 entries but its cell holds 2/,
    },
    {
      name: 'a subkey count the list does not hold',
      build: (w) => rootLists(w, { subkeys: 3, subkeyList: w.add(list('lh', [w.add(nk('a')), w.add(nk('b'))])) }),
      reason: /the key claims 3 subkeys but its list holds 2/,
    },
    {
      name: 'a list of an unknown kind',
      build: (w) => rootLists(w, { subkeys: 1, subkeyList: w.add(nk('not a list')) }),
      reason: /has signature "nk", not lf, lh, li or ri/,
    },
    {
      name: 'a value count beyond its value list',
      build: (w) => rootLists(w, { values: 10, valueList: w.add(offsets(w.add(vk('a')), w.add(vk('b')))) }),
      reason: /the key claims 10 values but its value list holds 3/,
    },
    {
      name: 'a value name longer than its cell',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { nameLength: 200 })))) }),
      reason: /the value at 0x[0-9A-F]+ has a 200-byte name that runs past its cell/,
    },
    {
      name: 'a value list naming a key',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(ROOT)) }),
      reason: /is not a value \(signature "nk"/,
    },
    {
      name: 'resident data longer than four bytes',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 0x80000008 })))) }),
      reason: /value "v": 8 bytes of resident data; at most 4 fit/,
    },
    {
      name: 'a data length beyond the hive',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 0x7fffff00, dataOffset: ROOT })))) }),
      reason: /claims 2147483392 bytes of data, more than the hive bins hold/,
    },
    {
      name: 'data longer than its cell, which is no db',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 200, dataOffset: w.add(segment(10, 7)) })))) }),
      reason: /claims 200 bytes but its data cell at 0x[0-9A-F]+ holds 12 and is no big-data \(db\) cell/,
    },
    {
      name: 'a db segment list outside the bins',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 300, dataOffset: w.add(db(1, 0x50000)) })))) }),
      reason: /value "v"'s big-data segment list: the cell at 0x50000 lies outside the hive bins/,
    },
    {
      name: 'a db segment count beyond its segment list',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 300, dataOffset: w.add(db(5, w.add(offsets(w.add(segment(300, 1)))))) })))) }),
      reason: /the big-data cell lists 5 segments but its segment list holds 1/,
    },
    {
      name: 'db segments shorter than the length',
      build: (w) => rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 300, dataOffset: w.add(db(1, w.add(offsets(w.add(segment(100, 1)))))) })))) }),
      reason: /claims 300 bytes but its big-data segments hold 100/,
    },
    {
      name: 'a db segment listed twice',
      extraBin: 40960,
      build: (w) => {
        const s = w.add(segment(16344, 1));
        rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 20000, dataOffset: w.add(db(2, w.add(offsets(s, s)))) })))) });
      },
      reason: /the big-data cell at 0x[0-9A-F]+ lists segment 0x[0-9A-F]+ twice/,
    },
    {
      name: 'two values sharing a db segment',
      build: (w) => {
        const s = w.add(segment(100, 1));
        const one = w.add(vk('one', { length: 100, dataOffset: w.add(db(1, w.add(offsets(s)))) }));
        const two = w.add(vk('two', { length: 100, dataOffset: w.add(db(1, w.add(offsets(s)))) }));
        rootLists(w, { values: 2, valueList: w.add(offsets(one, two)) });
      },
      reason: /value "two": big-data segment 0x[0-9A-F]+ belongs to the big-data cell at 0x[0-9A-F]+ too/,
    },
    {
      name: 'keys nested deeper than 512 levels',
      extraBin: 65536,
      build: (w) => {
        let parent = ROOT;
        let parentCount = 0;
        for (let depth = 1; depth <= 513; depth++) {
          const child = w.add(nk(`k${depth}`, { parent }));
          const li = w.add(list('li', [child]));
          w.set32(parent, 20, 1);
          w.set32(parent, 28, li);
          parent = child;
          parentCount++;
        }
        expect(parentCount).toBe(513);
      },
      reason: /keys nest deeper than 512 levels/,
    },
  ];

  it.each(cases)('$name → VolumeUnreadable', async ({ build, reason, extraBin }) => {
    const w = new CellWriter(emptyHive, extraBin);
    build(w);
    const bytes = w.finish();
    const outcome = await readAll(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(VolumeUnreadable);
    const err = outcome as VolumeUnreadable;
    expect(err.name).toBe('VolumeUnreadable');
    expect(err.reason).toMatch(reason);
    expect(err.reason).not.toContain('\n');
  });

  it.each([
    ['zeros', () => new Uint8Array(8192), /^not a registry hive: no "regf" signature at byte 0$/],
    ['a short file', () => Uint8Array.from([0x72, 0x65, 0x67, 0x66]), /base block is 4 bytes/],
    ['major version 2', (e: Uint8Array) => e.slice().fill(2, 20, 21), /major version 2 is not 1/],
    ['no bins after the base block', (e: Uint8Array) => e.slice(0, 4096), /the hive holds no hive bin/],
    ['a first bin without its signature', (e: Uint8Array) => e.slice().fill(0, 4096, 4100), /the hive bin at 0x0 has no "hbin" signature/],
  ] as const)('refuses %s with a reason', async (_, make, reason) => {
    await expect(openHive(make(emptyHive))).rejects.toThrow(reason);
    await expect(openHive(make(emptyHive))).rejects.toBeInstanceOf(VolumeUnreadable);
  });

  it('refuses a hive over 64 MiB before reading it', async () => {
    const head = emptyHive.slice(0, 4096);
    new DataView(head.buffer).setUint32(40, 200 * 1024 * 1024, true);
    let read = 0;
    const reader: ByteReader = {
      size: 1024 * 1024 * 1024,
      read: async (offset, length) => ((read += length), offset < 4096 ? head.slice(offset, offset + length) : new Uint8Array(length)),
    };
    await expect(openHive(reader)).rejects.toThrow(/declares 209715200 bytes of hive bins; this reader loads at most 67108864 bytes/);
    expect(read).toBe(4096);
  });

  it('parseHive keeps the bytes it is given (no copy) and values are views', () => {
    const w = new CellWriter(emptyHive);
    const data = w.add(segment(16, 9));
    rootLists(w, { values: 1, valueList: w.add(offsets(w.add(vk('v', { length: 16, dataOffset: data })))) });
    const bytes = w.finish();
    const value = parseHive(bytes).values(parseHive(bytes).root)[0]!;
    expect(value.data.buffer).toBe(bytes.buffer);
    expect(value.type).toBe(REG_BINARY);
  });
});
