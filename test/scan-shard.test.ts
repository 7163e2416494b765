import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseShard } from '../src/cli/scan-options.js';
import { parseEntryList } from '../src/scan/entry-list.js';
import { HostLimiter, hostOf } from '../src/scan/host-limit.js';
import { takeShard } from '../src/scan/shard.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { tempDir } from './helpers/tools.js';

/**
 * `scan` at scale: lists of images (`--from-file`), deterministic slices for batch engines
 * (`--shard K/N`, whose JSON Lines merge with `cat`), a bound on concurrent images per host, and
 * bounded memory for 100,000 entries.
 */
const dir = tempDir();
afterAll(() => dir.cleanup());
const NAMES = ['linux', 'windows', 'mbr-only', 'data', 'zeros', 'hybrid-mbr', 'grown'];
const files = NAMES.map((n) => fixtureFile(n, dir.path));
const PEAK_MEMORY = new URL('./helpers/peak-memory.mjs', import.meta.url).pathname;

/** The images a scan's JSON Lines report on, in order (the late collision lines left out). */
const paths = (jsonl: string): string[] =>
  jsonl.trim().split('\n').filter((l) => !l.startsWith('{"late"')).map((l) => (JSON.parse(l) as { source: { path: string } }).source.path);

describe('--shard K/N', () => {
  it('deals the list round-robin: disjoint slices of equal size (±1) that together are the list', () => {
    const list = Array.from({ length: 103 }, (_, i) => `img-${i}`);
    const slices = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => takeShard(list, { index: k, count: 8 }));
    expect(slices.flat().sort()).toEqual([...list].sort());
    expect(new Set(slices.flat()).size).toBe(list.length);
    expect(Math.max(...slices.map((s) => s.length)) - Math.min(...slices.map((s) => s.length))).toBeLessThanOrEqual(1);
    expect(takeShard(list, { index: 2, count: 8 })).toEqual(takeShard(list, { index: 2, count: 8 }));
    expect(takeShard(list, undefined)).toEqual(list);
  });

  it('refuses what is no shard, and says how to pass a 0-based index', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(() => parseShard('0/8')).toThrow('--shard numbers shards from 1 to 8; from a 0-based index (JOB_COMPLETION_INDEX) pass $((INDEX + 1))/8');
    expect(() => parseShard('9/8')).toThrow('shard 9 of 8 does not exist');
    for (const bad of ['3', '3/0', 'a/b', '-1/4', '1/4/2']) expect(() => parseShard(bad), bad).toThrow('--shard takes K/N');
  });

  it('the JSON Lines of every shard, concatenated, are the whole scan', () => {
    const whole = gptdoctor(['scan', '--json', ...files]);
    expect(whole.status).toBe(1);
    const shards = [1, 2, 3].map((k) => gptdoctor(['scan', '--json', '--shard', `${k}/3`, ...files]));
    for (const s of shards) expect(s.stderr).toMatch(/Scanned \d images \(shard \d\/3 of 7\)/);
    const merged = shards.map((s) => s.stdout).join('');
    const byPath = (jsonl: string) => jsonl.trim().split('\n').sort();
    // Lines are the same reports; the late collision lines of one shard compare only its own images.
    const reports = (jsonl: string) => byPath(jsonl).filter((l) => !l.startsWith('{"late"'));
    expect(reports(merged)).toEqual(reports(whole.stdout));
    expect(paths(shards[0]!.stdout)).toEqual([files[0], files[3], files[6]]);
  });
});

describe('--from-file', () => {
  it('reads one entry per line, skipping blank lines and # comments, CRLF or not', () => {
    expect(parseEntryList('# library\r\na.img\r\n\r\n  b.vhdx  \n#c.img\nhttps://host/d.img?sig=x\n')).toEqual(['a.img', 'b.vhdx', 'https://host/d.img?sig=x']);
  });

  it('scans the images a list names, from a file or from stdin, after those named on the command line', () => {
    const list = join(dir.path, 'list.txt');
    writeFileSync(list, `# images\n${files.slice(1, 4).join('\n')}\n`);
    const fromFile = gptdoctor(['scan', '--json', '--from-file', list, files[0]!]);
    expect(paths(fromFile.stdout)).toEqual(files.slice(0, 4));
    const fromStdin = gptdoctor(['scan', '--json', '--from-file', '-'], files.slice(1, 4).join('\n'));
    expect(paths(fromStdin.stdout)).toEqual(files.slice(1, 4));
  });

  it('a missing list, or nothing to scan at all, is one line and exit 2', () => {
    const missing = gptdoctor(['scan', '--from-file', join(dir.path, 'nope.txt')]);
    expect([missing.status, missing.stderr.trim()]).toEqual([2, `gptdoctor: --from-file ${join(dir.path, 'nope.txt')}: no such file`]);
    const none = gptdoctor(['scan']);
    expect(none.status).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain('--from-file FILE');
  });

  it('a URL is an image named outright, never a glob, even with a ? in its query', () => {
    const r = gptdoctor(['scan', '--json', 'http://127.0.0.1:9/disk.img?sv=2024&sig=x']);
    expect(r.status).toBe(2);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('100,000 entries stay in bounded memory', () => {
    // Every 50th entry is a real image (2,000 checks); the rest are missing files, each an unreadable line.
    const list = join(dir.path, 'big.txt');
    const lines = Array.from({ length: 100_000 }, (_, i) => (i % 50 === 0 ? files[i % files.length]! : join(dir.path, 'missing', `img-${i}.img`)));
    writeFileSync(list, lines.join('\n'));
    const r = spawnSync(process.execPath, [PEAK_MEMORY, 'scan', '--json', '--profile', 'structure', '--from-file', list], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    expect(r.status).toBe(2);
    expect(r.stdout.trim().split('\n').filter((l) => !l.startsWith('{"late"'))).toHaveLength(100_000);
    const peakKiB = Number(/MAXRSS (\d+)/.exec(r.stderr)![1]);
    expect(peakKiB).toBeLessThan(256 * 1024);
  }, 120_000);
});

describe('images per host', () => {
  it('hostOf names the host of a URL only', () => {
    expect(hostOf('https://Bucket.S3.amazonaws.com/a.img?X-Amz-Signature=1')).toBe('bucket.s3.amazonaws.com');
    expect(hostOf('http://127.0.0.1:8080/a.img')).toBe('127.0.0.1:8080');
    expect(hostOf('/srv/a.img')).toBeUndefined();
    expect(hostOf('http://[bad')).toBeUndefined();
  });

  it('at most N images of one host at a time; other hosts and local paths are not held back', async () => {
    const limiter = new HostLimiter(2);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const task = (host: string | undefined) =>
      limiter.run(host, async () => {
        const key = host ?? 'local';
        running.set(key, (running.get(key) ?? 0) + 1);
        peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key)!));
        await new Promise((r) => setTimeout(r, 5));
        running.set(key, running.get(key)! - 1);
      });
    await Promise.all([...Array(10)].flatMap(() => [task('a:80'), task('b:80'), task(undefined)]));
    expect(Object.fromEntries(peak)).toEqual({ 'a:80': 2, 'b:80': 2, local: 10 });
  });
});
