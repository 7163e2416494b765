import { describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_POLICY, ReadCache, planRuns, type CachePolicy } from '../src/disk/read-cache.js';
import { prng } from './helpers/tools.js';

/**
 * The read cache of disks read over a network (HTTP, file shares), against a counting fake of the range fetch: what it
 * asks for, how often, and that it hands out the right bytes whatever the order of the reads.
 */

const KIB = 1024;
const policy: CachePolicy = { ...DEFAULT_CACHE_POLICY, blockSize: 16 * KIB, readAheadBlocks: 1, mergeGapBlocks: 2, tailBytes: 64 * KIB };

function fakeObject(size: number, seed = 1): Uint8Array {
  const random = prng(seed);
  const words = new Uint32Array(Math.ceil(size / 4)).map(() => Math.floor(random() * 2 ** 32));
  return new Uint8Array(words.buffer, 0, size);
}

/** A cache over `bytes` whose fetches are recorded as [start, end). */
function counted(bytes: Uint8Array, p: CachePolicy = policy): { cache: ReadCache; fetches: Array<[number, number]> } {
  const fetches: Array<[number, number]> = [];
  const cache = new ReadCache(bytes.length, async (start, end) => {
    fetches.push([start, end]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return bytes.slice(start, end);
  }, p);
  return { cache, fetches };
}

describe('planRuns', () => {
  const size = 1024 * KIB; // 64 blocks of 16 KiB
  const none = (): boolean => false;

  it('reads one block ahead, and merges misses at most two blocks apart', () => {
    expect(planRuns([3], none, size, policy)).toEqual([[3, 4]]);
    expect(planRuns([3, 6], none, size, policy)).toEqual([[3, 7]]);
    expect(planRuns([3, 7], none, size, policy)).toEqual([[3, 4], [7, 8]]);
  });

  it('stops reading ahead at a block that is known', () => {
    expect(planRuns([3], (b) => b === 4, size, policy)).toEqual([[3, 3]]);
  });

  it('takes the whole tail for a miss in the last 64 KiB, and no more than the disk', () => {
    expect(planRuns([63], none, size, policy)).toEqual([[60, 63]]);
    // A disk that does not end on a block boundary: its last block is short, the tail the same.
    expect(planRuns([64], none, size + 100, policy)).toEqual([[60, 64]]);
    expect(planRuns([0], none, 3 * KIB, policy)).toEqual([[0, 0]]);
  });
});

describe('ReadCache', () => {
  it('serves a run of sector reads with one request, and the bytes are right', async () => {
    const bytes = fakeObject(512 * KIB);
    const { cache, fetches } = counted(bytes);
    for (let sector = 100; sector < 140; sector++) {
      expect(await cache.read(sector * 512, 512)).toEqual(bytes.subarray(sector * 512, sector * 512 + 512));
    }
    expect(fetches).toEqual([[48 * KIB, 80 * KIB]]);
  });

  it('makes concurrent reads of nearby ranges one request, and a block in flight is never fetched twice', async () => {
    const bytes = fakeObject(1024 * KIB);
    const { cache, fetches } = counted(bytes);
    const reads: Array<[number, number]> = [[100 * KIB, 512], [101 * KIB, 4096], [130 * KIB, 1024], [100 * KIB, 512]];
    const got = await Promise.all(reads.map(([offset, length]) => cache.read(offset, length)));
    got.forEach((b, i) => expect(b).toEqual(bytes.subarray(reads[i]![0], reads[i]![0] + reads[i]![1])));
    expect(fetches).toEqual([[96 * KIB, 160 * KIB]]);
    // A read of a block being fetched waits for that request.
    const [first, again] = await Promise.all([cache.read(400 * KIB, 16), cache.read(400 * KIB + 8, 16)]);
    expect([first, again]).toEqual([bytes.subarray(400 * KIB, 400 * KIB + 16), bytes.subarray(400 * KIB + 8, 400 * KIB + 24)]);
    expect(fetches).toHaveLength(2);
  });

  it('keeps bytes filled from the first response, and reads past the end are clipped', async () => {
    const bytes = fakeObject(100 * KIB + 7);
    const { cache, fetches } = counted(bytes);
    cache.fill(0, bytes.slice(0, 64 * KIB));
    expect(await cache.read(1000, 30 * KIB)).toEqual(bytes.subarray(1000, 1000 + 30 * KIB));
    expect(fetches).toEqual([]);
    expect(await cache.read(bytes.length - 10, 100)).toEqual(bytes.subarray(bytes.length - 10));
    expect(await cache.read(bytes.length, 100)).toEqual(new Uint8Array(0));
    expect(fetches).toEqual([[64 * KIB, bytes.length]]);
  });

  it('reads large ranges directly, and stays within its capacity', async () => {
    const bytes = fakeObject(4096 * KIB);
    const small: CachePolicy = { ...policy, capacityBytes: 64 * KIB, directFrom: 1024 * KIB };
    const { cache, fetches } = counted(bytes, small);
    expect(Buffer.compare(await cache.read(0, 2048 * KIB), bytes.subarray(0, 2048 * KIB))).toBe(0);
    expect(fetches).toEqual([[0, 2048 * KIB]]);
    // Random small reads far apart: every answer is right, though blocks come and go.
    const random = prng(7);
    for (let i = 0; i < 200; i++) {
      const offset = Math.floor(random() * (bytes.length - 8192));
      expect(Buffer.compare(await cache.read(offset, 8192), bytes.subarray(offset, offset + 8192))).toBe(0);
    }
    const stored = (cache as unknown as { cachedBytes: number }).cachedBytes;
    expect(stored).toBeLessThanOrEqual(64 * KIB);
  });

  it('hands a failed fetch to every read that waited for it, and tries again on the next read', async () => {
    const bytes = fakeObject(256 * KIB);
    let fail = true;
    const cache = new ReadCache(bytes.length, async (start, end) => {
      if (fail) throw new Error('down');
      return bytes.slice(start, end);
    }, policy);
    const results = await Promise.allSettled([cache.read(0, 10), cache.read(20 * KIB, 10)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await cache.read(0, 10)).toEqual(bytes.subarray(0, 10));
  });
});
