import type { BlockSource } from './disk/block-source.js';
import { openDisk, type OpenOptions } from './disk/open.js';
import { loadGpt, type LoadOptions } from './read/load-gpt.js';
import { inspectReport, type InspectReport } from './report/inspect-report.js';
import { checkLoaded, type CheckReport } from './report/check-report.js';
import type { Profile } from './check/finding.js';

/**
 * How to open a disk named by path: `parent` is a differencing VHD/VHDX's parent (--parent);
 * `progress` hears how a compressed image's decompression goes.
 */
export type DiskOptions = Pick<OpenOptions, 'parent' | 'progress'>;

/** Runs `fn` on a disk opened read-only, closing it whatever happens. */
export async function withDisk<T>(path: string, fn: (source: BlockSource) => Promise<T>, options: DiskOptions = {}): Promise<T> {
  const source = await openDisk(path, { ...(options.parent ? { parent: options.parent } : {}), ...(options.progress ? { progress: options.progress } : {}) });
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

/** Everything `inspect --json` shows, for a path or an already open source. */
export async function inspectDisk(disk: string | BlockSource, options: LoadOptions & DiskOptions = {}): Promise<InspectReport> {
  if (typeof disk !== 'string') return inspectReport(await loadGpt(disk, options));
  return withDisk(disk, async (source) => inspectReport(await loadGpt(source, options)), options);
}

export interface CheckOptions extends LoadOptions, DiskOptions {
  profile?: Profile;
}

/** Everything `check --json` shows. `disk` is a path (used in fix lines) or an open source. */
export async function checkDisk(disk: string | BlockSource, options: CheckOptions = {}): Promise<CheckReport> {
  const run = async (source: BlockSource): Promise<CheckReport> =>
    checkLoaded(await loadGpt(source, options), typeof disk === 'string' ? disk : source.path, options.profile ?? 'auto');
  return typeof disk === 'string' ? withDisk(disk, run, options) : run(disk);
}
