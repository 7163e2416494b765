import { withDisk, type CheckOptions } from '../api.js';
import { fixPlace, type FixPlace } from '../check/fix-target.js';
import { checkLoaded, type CheckReport } from '../report/check-report.js';
import { DiskError } from '../disk/block-source.js';
import { displayPath } from '../disk/url-redact.js';
import { loadGpt } from '../read/load-gpt.js';
import { zlib } from '../lazy-zlib.js';
import { HostLimiter, hostOf } from './host-limit.js';

/**
 * One scanned image: a check report, and where fixes would write it (check/fix-target.ts, for
 * the fix lines of identity collisions found once every image is in), or why it could not be read.
 */
export type ScanResult =
  | { path: string; report: CheckReport; fixPlace: FixPlace }
  | { path: string; error: { code: string; message: string } };

/**
 * Loading node:zlib costs ~2 ms; its CRC-32 saves ~8 µs on each image's 16 KiB array, so it pays
 * for itself from a few hundred images on.
 */
const ZLIB_PAYS_FROM = 256;

/** Images read at once from one web server or storage account, unless --jobs-per-host says otherwise (a browser's limit). */
export const DEFAULT_JOBS_PER_HOST = 6;

/**
 * Checks many disks concurrently in one process and yields the results in input order.
 * At most `jobs` images are open at once, and at most `jobsPerHost` of one host's URLs; one
 * unreadable or hostile image only yields an error.
 */
export async function* scanDisks(paths: readonly string[], options: CheckOptions & { jobs?: number; jobsPerHost?: number } = {}): AsyncGenerator<ScanResult> {
  const jobs = Math.max(1, options.jobs ?? 8);
  const hosts = new HostLimiter(Math.max(1, options.jobsPerHost ?? DEFAULT_JOBS_PER_HOST));
  if (paths.length >= ZLIB_PAYS_FROM) zlib(); // from then on, gpt/crc32.ts sums arrays with zlib's CRC-32
  const pending = new Map<number, Promise<ScanResult>>();
  let next = 0;
  const start = (i: number): void => void pending.set(i, hosts.run(hostOf(paths[i]!), () => scanOne(paths[i]!, options)));
  while (next < Math.min(jobs, paths.length)) start(next++);
  for (let i = 0; i < paths.length; i++) {
    const result = await pending.get(i)!;
    pending.delete(i);
    if (next < paths.length) start(next++);
    yield result;
  }
}

async function scanOne(path: string, options: CheckOptions): Promise<ScanResult> {
  try {
    return await withDisk(
      path,
      async (source) => {
        const g = await loadGpt(source, options);
        return { path, report: await checkLoaded(g, displayPath(path), options.profile ?? 'auto', options.target), fixPlace: await fixPlace(g) };
      },
      options,
    );
  } catch (err) {
    const code = err instanceof DiskError ? err.code : 'EINTERNAL';
    return { path, error: { code, message: err instanceof Error ? err.message : String(err) } };
  }
}
