/**
 * Bounds how many images of one host a scan reads at once. A scan of URLs with `--jobs 64`
 * would otherwise open 64 connections to one web server (or one storage account); local paths
 * are not limited here, `--jobs` bounds them.
 */

/** The host an entry is fetched from (lower case, with its port), or undefined for a local path. */
export function hostOf(entry: string): string | undefined {
  if (!/^https?:\/\//i.test(entry)) return undefined;
  try {
    return new URL(entry).host.toLowerCase();
  } catch {
    return undefined;
  }
}

export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly perHost: number) {}

  /** Runs `work` once fewer than `perHost` images of `host` are being read; at once for a local path. */
  async run<T>(host: string | undefined, work: () => Promise<T>): Promise<T> {
    if (host === undefined) return work();
    await this.acquire(host);
    try {
      return await work();
    } finally {
      this.release(host);
    }
  }

  private acquire(host: string): Promise<void> {
    const active = this.active.get(host) ?? 0;
    if (active < this.perHost) {
      this.active.set(host, active + 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(host) ?? [];
      queue.push(resolve);
      this.waiting.set(host, queue);
    });
  }

  /** Hands the slot to the next waiter of the host, or frees it; empty entries are dropped so a scan of many hosts stays small. */
  private release(host: string): void {
    const queue = this.waiting.get(host);
    const next = queue?.shift();
    if (queue && !queue.length) this.waiting.delete(host);
    if (next) return next();
    const active = (this.active.get(host) ?? 1) - 1;
    if (active) this.active.set(host, active);
    else this.active.delete(host);
  }
}
