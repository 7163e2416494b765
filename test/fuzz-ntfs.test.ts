import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReader } from '../src/fs/byte-reader.js';
import { openNtfs, type NtfsVolume } from '../src/fs/ntfs.js';
import { VolumeUnreadable } from '../src/fs/unreadable.js';
import { mapImage, mutateNtfs, type NtfsMap } from './helpers/fuzz-ntfs.js';
import { geometry, inodes, makeVolume } from './helpers/ntfs-image.js';
import { canUseFuse, haveTools, prng, tempDir } from './helpers/tools.js';

/**
 * Structure-aware fuzzing of the NTFS reader over a volume made by mkntfs and filled through
 * ntfs-3g (scripts/make-ntfs-volume.sh): each case mutates one field of the boot sector, an MFT
 * record (header, attribute header, runlist), an attribute list or an INDX block, with the fixups
 * redone, then opens the volume and lists, looks up, reads and counts free space. The only
 * acceptable outcomes are values (of the promised shape) and VolumeUnreadable with a sentence;
 * each operation must settle within OP_MS, or the case fails (a synchronous runaway loop would
 * instead block the worker until vitest's test timeout, which fails the run).
 *
 * 400 cases by default; FUZZ_CASES=5000 runs more (by hand), FUZZ_SEED changes the seed, and
 * FUZZ_ONLY=n replays case n alone (FUZZ_REPLAY=1 prints its error; FUZZ_CHECK_RESTORE=1 checks
 * after every case that the image was restored, to catch a mutator writing outside its ranges).
 */
const MiB = 1024 * 1024;
const TOTAL = Number(process.env.FUZZ_CASES ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 0x4e7f5);
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const OP_MS = 3000;
const RSS_GROWTH = 256 * MiB;

const PATHS = {
  winre: '\\Recovery\\WindowsRE\\Winre.wim',
  system: '\\windows\\SYSTEM32\\config\\system',
  holes: '\\Frag\\holes.bin',
  sparse: '\\sparse.bin',
  link: '\\Links\\hard link number 7 to the same file with a long name.bin',
  many: '\\Many\\mixed case file number 150 with a rather long name to fill indx blocks.txt',
  dos: '\\PROGRA~1\\app.exe',
};

class OverBudget extends Error {}

/** `op` must settle within OP_MS; the timer does not keep the case alive once it has. */
async function within<T>(name: string, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OverBudget(`${name} took more than ${OP_MS} ms`)), OP_MS);
  });
  try {
    return await Promise.race([op(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every call a checker of issue 17 would make; each result is checked for the promised shape. */
async function exercise(bytes: Uint8Array): Promise<string> {
  const vol: NtfsVolume = await within('openNtfs', () => openNtfs(memoryReader(bytes)));
  const shape = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`${what} broke its promise`);
  };
  for (const dir of ['\\', '\\Many', '\\Links', '\\Frag', '\\Recovery\\WindowsRE']) {
    const entries = await within(`readDir ${dir}`, () => vol.readDir(dir)).catch(swallow);
    shape(entries === undefined || entries === SWALLOWED || (Array.isArray(entries) && entries.every((e) => typeof e.name === 'string' && Number.isSafeInteger(e.size) && e.size >= 0)), `readDir ${dir}`);
  }
  for (const path of Object.values(PATHS)) {
    const exists = await within(`exists ${path}`, () => vol.exists(path)).catch(swallow);
    shape(typeof exists === 'boolean' || exists === SWALLOWED, `exists ${path}`);
  }
  for (const [path, max] of [[PATHS.winre, MiB], [PATHS.holes, 4 * MiB], [PATHS.sparse, 64 * 1024], [PATHS.link, 10000], [PATHS.system, 300000]] as const) {
    const data = await within(`readFile ${path}`, () => vol.readFile(path, max)).catch(swallow);
    shape(data === undefined || data === SWALLOWED || (data instanceof Uint8Array && data.length <= max), `readFile ${path}`);
  }
  for (const enough of [undefined, MiB]) {
    const free = await within(`freeBytes(${enough ?? ''})`, () => vol.freeBytes(enough)).catch(swallow);
    shape(free === SWALLOWED || (Number.isSafeInteger(free) && free >= 0 && free <= vol.totalBytes), 'freeBytes');
  }
  shape(vol.problems.every((p) => typeof p === 'string' && p.length > 10), 'problems');
  return vol.problems.length ? 'opened, with problems' : 'opened';
}

const SWALLOWED = Symbol('VolumeUnreadable');
/** A method's VolumeUnreadable is an acceptable outcome; anything else propagates and fails the case. */
function swallow(err: unknown): typeof SWALLOWED {
  if (err instanceof VolumeUnreadable && err.reason.length >= 10) return SWALLOWED;
  throw err;
}

describe.runIf(haveTools('mkntfs', 'ntfs-3g', 'ntfsls', 'ntfsinfo', 'openssl', 'python3') && canUseFuse())('NTFS reader under structure-aware fuzzing', () => {
  const dir = tempDir('gptdoctor-fuzz-ntfs-');
  const img = join(dir.path, 'fuzz.img');
  let pristine: Buffer;
  let map: NtfsMap;

  beforeAll(() => {
    makeVolume(img, 32, [], { HOLES: '800' });
    pristine = readFileSync(img);
    const g = geometry(img);
    const root = inodes(img, '/');
    const frag = inodes(img, '/Frag');
    const hot = [0, 3, 5, 6, 10, root.get('Many')!, root.get('Links')!, root.get('Frag')!, root.get('Recovery')!, frag.get('holes.bin')!, inodes(img, '/Links').get('target.bin')!];
    map = mapImage(Buffer.from(pristine), g, hot, 4096);
  }, 60_000);
  afterAll(() => dir.cleanup());

  it('the fixture has what the mutator aims at', () => {
    expect(map.lists.length).toBeGreaterThanOrEqual(2); // holes.bin's and the hard links'
    expect(map.indx.length).toBeGreaterThan(20);
    expect(map.hot.length).toBe(11);
  });

  it(`${TOTAL} mutated volumes end in a value or VolumeUnreadable, each operation within ${OP_MS} ms`, async () => {
    const work = Buffer.from(pristine);
    const outcomes: Record<string, number> = {};
    const failures: string[] = [];
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < TOTAL; i++) {
      if (ONLY !== undefined && i !== ONLY) continue;
      const rand = prng(SEED + i);
      const mutations = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => mutateNtfs(rand, work, map));
      const what = mutations.map((m) => m.what).join('; ');
      try {
        const outcome = await exercise(work);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      } catch (err) {
        if (err instanceof VolumeUnreadable && err.reason.length >= 10) outcomes['VolumeUnreadable at open'] = (outcomes['VolumeUnreadable at open'] ?? 0) + 1;
        else failures.push(`case ${i} (FUZZ_ONLY=${i}) ${what}: ${(err as Error)?.name}: ${(err as Error)?.message}`);
        if (process.env.FUZZ_REPLAY) console.log(what, err);
      }
      if (process.memoryUsage().rss - rss > RSS_GROWTH) failures.push(`case ${i} ${what}: RSS grew by more than ${RSS_GROWTH / MiB} MiB`);
      for (const m of mutations.reverse()) for (const [at, length] of m.ranges) pristine.copy(work, at, at, at + length);
      if (process.env.FUZZ_CHECK_RESTORE && !work.equals(pristine)) throw new Error(`case ${i} not restored: ${what} first diff at ${work.findIndex((v, j) => v !== pristine[j])}`);
    }
    console.log('NTFS fuzz outcomes:', outcomes);
    expect(failures).toEqual([]);
    expect(work.equals(pristine)).toBe(true); // every case was restored
    if (ONLY === undefined) {
      // Not vacuous: most mutations get past the boot sector, and some reach each kind of end.
      expect(outcomes.opened! + (outcomes['opened, with problems'] ?? 0)).toBeGreaterThan(TOTAL / 3);
      expect(outcomes['VolumeUnreadable at open']).toBeGreaterThan(0);
      expect(outcomes['opened, with problems']).toBeGreaterThan(0);
    }
  }, 120_000);
});
