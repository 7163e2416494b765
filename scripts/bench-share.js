// The network-share rows of `npm run bench` (issue #20: a scan on a share is bounded by round
// trips, not by CPU): 50 copies of the 4-partition Windows image on a share whose every read waits
// 2 ms (scripts/slow-share.py: FUSE, no client caching), scanned with --profile structure and with
// the default rules, against a loop of `sgdisk -v` over the same files and against the serial lower
// bound of 2 reads per image (head and tail). The share counts the reads, so the rows also show
// reads per image.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const IMAGES = 50;
const DELAY_MS = 2;
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-fusepy installs the module

function haveFusepy() {
  return spawnSync(PYTHON, ['-c', 'import fusepy'], { stdio: 'ignore' }).status === 0 && existsSync('/dev/fuse');
}

/** Reads the share has served so far (it keeps the count in a file). */
function servedReads(countFile) {
  return Number(readFileSync(countFile, 'utf8'));
}

/**
 * Rows in bench.js's shape ([name, ms, [[peer, ms]]]) and reads per image, or `skipped` with why.
 * `time(cmd, runs)` is bench.js's timer.
 */
export async function shareRows({ gd, tmp, image, time }) {
  if (!haveFusepy()) return { rows: [], skipped: 'python3-fusepy (Debian) or /dev/fuse is missing' };
  const work = join(tmp, 'share');
  const files = join(work, 'files');
  const mount = join(work, 'mnt');
  const countFile = join(work, 'reads');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(files, { recursive: true });
  mkdirSync(mount);
  const names = Array.from({ length: IMAGES }, (_, i) => `disk-${String(i).padStart(2, '0')}.img`);
  for (const name of names) execFileSync('cp', ['--sparse=always', image, join(files, name)]);
  const script = new URL('./slow-share.py', import.meta.url).pathname;
  const share = spawn(PYTHON, [script, files, mount, String(DELAY_MS), countFile], { stdio: 'ignore' });
  const exited = new Promise((resolve) => share.on('exit', resolve));
  try {
    for (let i = 0; i < 200 && !existsSync(join(mount, names[0])); i++) execFileSync('sleep', ['0.05']);
    // Each command once first, for the count of its reads; then timed.
    const readsOf = (cmd) => {
      const before = servedReads(countFile);
      execFileSync('bash', ['-c', cmd]);
      return (servedReads(countFile) - before) / IMAGES;
    };
    const structure = `${gd} scan --json --profile structure ${mount} > /dev/null 2>&1 || true`;
    const rules = `${gd} scan --json ${mount} > /dev/null 2>&1 || true`;
    const sgdiskLoop = `for f in ${mount}/*.img; do sgdisk -v "$f" > /dev/null 2>&1; done`;
    const readsPerImage = { structure: readsOf(structure), rules: readsOf(rules), sgdisk: readsOf(sgdiskLoop) };
    const peers = [['sgdisk -v loop on the share', time(sgdiskLoop, 1)], ['serial lower bound (2 reads per image)', IMAGES * 2 * DELAY_MS]];
    const where = `${IMAGES} images on a share (${DELAY_MS} ms per read)`;
    return {
      rows: [
        [`scan --profile structure of ${where}`, time(structure, 3), peers],
        [`scan of ${where}, default rules`, time(rules, 3), peers],
      ],
      readsPerImage,
    };
  } finally {
    spawnSync('fusermount', ['-u', mount]);
    share.kill('SIGTERM');
    await exited;
    rmSync(work, { recursive: true, force: true });
  }
}
