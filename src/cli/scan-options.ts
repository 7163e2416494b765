import { UsageError } from './errors.js';
import type { Shard } from '../scan/shard.js';

/**
 * Parses `--shard K/N`. Shards are numbered from 1, like "the K-th of N slices"; a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX counts from 0, so its manifest passes `$((JOB_COMPLETION_INDEX + 1))`.
 */
export function parseShard(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1) throw new UsageError(`--shard takes K/N with N at least 1, e.g. --shard 3/8 (got "${text}")`);
  if (index === 0) throw new UsageError(`--shard numbers shards from 1 to ${count}; from a 0-based index (JOB_COMPLETION_INDEX) pass $((INDEX + 1))/${count}`);
  if (index > count) throw new UsageError(`--shard ${text}: shard ${index} of ${count} does not exist (shards are 1 to ${count})`);
  return { index, count };
}
