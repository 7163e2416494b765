import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * External tools the oracle tests need. In CI a missing tool is a failure (CI installs them);
 * on a developer machine the test is skipped with the reason printed.
 */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((n) => spawnSync('sh', ['-c', `command -v ${n}`], { encoding: 'utf8' }).status !== 0);
  if (missing.length === 0) return true;
  const message = `missing tools: ${missing.join(', ')} (apt-get install gdisk fdisk parted dosfstools mtools ntfs-3g qemu-utils libfsntfs-utils libhivex-bin libwin-hivex-perl libregf-utils)`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}

/** True when we may attach loop devices (root on Linux). In CI their absence is a failure. */
export function canUseLoop(): boolean {
  const ok = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('losetup', ['--version']).status === 0;
  if (!ok && process.env.CI) throw new Error('loop devices are needed (run as root on Linux)');
  if (!ok) console.warn('skipping: loop-device tests need root on Linux');
  return ok;
}

/** True when we may mount FUSE filesystems (root on Linux, /dev/fuse present). In CI their absence is a failure. */
export function canUseFuse(): boolean {
  const ok = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/dev/fuse');
  if (!ok && process.env.CI) throw new Error('FUSE mounts are needed (run as root on Linux with /dev/fuse)');
  if (!ok) console.warn('skipping: FUSE-mount tests need root on Linux and /dev/fuse');
  return ok;
}

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs and returns stdout+stderr and the status without throwing. */
export function runAll(cmd: string, args: string[], input?: string): { status: number; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Attaches `file` as a loop device with the given logical sector size for the duration of `fn`. */
export function withLoop<T>(file: string, sectorSize: number, fn: (device: string) => T): T {
  const device = run('losetup', ['--sector-size', String(sectorSize), '--find', '--show', file]).trim();
  try {
    return fn(device);
  } finally {
    run('losetup', ['--detach', device]);
  }
}

export function tempDir(prefix = 'gptdoctor-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A small deterministic PRNG (mulberry32) so random tests replay exactly from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether Debian's python3 can import `module` (python3-libvhdi gives pyvhdi); like haveTools in CI. */
export function havePythonModule(module: string, debianPackage: string): boolean {
  if (spawnSync('/usr/bin/python3', ['-c', `import ${module}`]).status === 0) return true;
  const message = `missing Python module ${module} (apt-get install ${debianPackage})`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}
