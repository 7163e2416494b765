import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLoaded } from '../src/report/check-report.js';
import { DiskError } from '../src/disk/block-source.js';
import { openDisk } from '../src/disk/open.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { inspectReport } from '../src/report/inspect-report.js';
import { canUseLoop, haveTools, prng, run, tempDir, withLoop } from './helpers/tools.js';
import { below, gptMutator, pick, vhdMutator, type Mutator, type Rand } from './helpers/fuzz-fields.js';
import { KiB, qcow2Mutator, vhdxMutator, vmdkMutator } from './helpers/fuzz-mutators.js';

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
