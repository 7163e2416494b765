import type { BlockSource } from './disk/block-source.js';
import { openDisk, type OpenOptions } from './disk/open.js';
import { displayPath } from './disk/url-redact.js';
import { loadGpt, type LoadOptions } from './read/load-gpt.js';
import { inspectReport, type InspectReport } from './report/inspect-report.js';
import { checkLoaded, type CheckReport } from './report/check-report.js';
import type { CloudTarget, Profile } from './check/finding.js';

/**
 * How to open a disk named by path (or http(s):// URL): `parent` is a differencing VHD/VHDX's
 * parent (--parent); `progress` hears how a compressed image's decompression goes; `http` sets
 * the timeout and retries of a URL.
 */
export type DiskOptions = Pick<OpenOptions, 'parent' | 'progress' | 'http'>;

/** Runs `fn` on a disk opened read-only, closing it whatever happens. */
export async function withDisk<T>(path: string, fn: (source: BlockSource) => Promise<T>, options: DiskOptions = {}): Promise<T> {
  const { parent, progress, http } = options;
  const source = await openDisk(path, { ...(parent ? { parent } : {}), ...(progress ? { progress } : {}), ...(http ? { http } : {}) });
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
  /** Also pre-flight the image for this cloud's import (`check --target`). */
  target?: CloudTarget;
}

/**
 * Everything `check --json` shows. `disk` is a path (used in fix lines; a URL without its query,
 * which may hold a signature) or an open source.
 */
export async function checkDisk(disk: string | BlockSource, options: CheckOptions = {}): Promise<CheckReport> {
  const run = async (source: BlockSource): Promise<CheckReport> =>
    checkLoaded(await loadGpt(source, options), typeof disk === 'string' ? displayPath(disk) : source.path, options.profile ?? 'auto', options.target);
  return typeof disk === 'string' ? withDisk(disk, run, options) : run(disk);
}
