import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureFile } from './helpers/images.js';
import { haveTools, tempDir } from './helpers/tools.js';

/**
 * The batch engines the README shows: the Kubernetes Indexed Job in examples/kubernetes (its
 * command run as each of its pods would run it) and the GNU parallel line. Either way the shards'
 * JSON Lines, concatenated, hold every report of a whole scan.
 */
const dir = tempDir();
afterAll(() => dir.cleanup());
const BIN = new URL('../bin/gptdoctor.js', import.meta.url).pathname;
const MANIFEST = new URL('../examples/kubernetes/scan-indexed-job.yaml', import.meta.url).pathname;
const README = new URL('../README.md', import.meta.url).pathname;

/** A PATH whose `gptdoctor` is this build, as `npm install -g` would give. */
function pathWithGptdoctor(): string {
  const bin = join(dir.path, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'gptdoctor'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'gptdoctor'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

function library(): { list: string; files: string[] } {
  const images = join(dir.path, 'images');
  mkdirSync(images, { recursive: true });
  const files = ['linux', 'windows', 'mbr-only', 'data', 'zeros', 'hybrid-mbr', 'grown', 'windows-mbr', 'entries256'].map((n) => fixtureFile(n, images));
  const list = join(dir.path, 'library.txt');
  writeFileSync(list, files.join('\n') + '\n');
  return { list, files };
}

/** The check reports of JSON Lines, by path (late collision lines left out: each shard compares its own images). */
const reports = (jsonl: string): string[] => jsonl.split('\n').filter((l) => l && !l.startsWith('{"late"')).sort();

describe('scanning a library with a batch engine', () => {
  const { list, files } = library();
  const PATH = pathWithGptdoctor();
  // The scan exits 1 (some images have errors): its reports are the result.
  const whole = spawnSync(process.execPath, [BIN, 'scan', '--json', '--profile', 'windows', '--jobs', '8', ...files], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }).stdout;

  it('the Kubernetes Indexed Job: every index runs its slice, and cat merges the shards into the whole scan', () => {
    const manifest = readFileSync(MANIFEST, 'utf8');
    const completions = Number(/^\s+completions: (\d+)$/m.exec(manifest)![1]);
    expect(manifest).toMatch(/completionMode: Indexed/);
    const command = /^\s+- (gptdoctor scan .*)$/m.exec(manifest)![1]!;
    expect(command).toContain(`--shard $((JOB_COMPLETION_INDEX + 1))/${completions}`);
    const out = join(dir.path, 'out');
    mkdirSync(out, { recursive: true });
    const local = command.replaceAll('/lists/library.txt', list).replaceAll('/out/', `${out}/`);
    for (let index = 0; index < completions; index++) {
      const pod = spawnSync('sh', ['-c', local], { encoding: 'utf8', env: { ...process.env, PATH, JOB_COMPLETION_INDEX: String(index) } });
      expect(pod.status, pod.stderr).toBe(0); // the manifest's `test $? -le 2`: findings are results, not failures
    }
    const shards = readdirSync(out).filter((f) => f.startsWith('shard-'));
    expect(shards).toHaveLength(completions);
    const merged = execFileSync('sh', ['-c', `cat ${out}/shard-*.jsonl`], { encoding: 'utf8' });
    expect(reports(whole)).toHaveLength(files.length);
    expect(reports(merged)).toEqual(reports(whole));
  });

  it.runIf(haveTools('parallel'))('the README\'s GNU parallel line', () => {
    const readme = readFileSync(README, 'utf8');
    const line = /^\$ (parallel .*)$/m.exec(readme)![1]!;
    const work = join(dir.path, 'parallel');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'library.txt'), readFileSync(list));
    const r = spawnSync('sh', ['-c', line], { cwd: work, encoding: 'utf8', env: { ...process.env, PATH } });
    expect(r.status, r.stderr).toBe(0);
    expect(reports(readFileSync(join(work, 'library.jsonl'), 'utf8'))).toEqual(reports(whole));
  });
});
