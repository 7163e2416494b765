/** One slice of a list of images: the K-th (1-based) of N. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The entries of one shard: the i-th entry of the list (0-based) belongs to shard (i mod N) + 1.
 * Dealing round-robin keeps the shards the same size, and a sorted directory walk's runs of
 * similar images (one big library folder) are spread over all of them. Every worker given the
 * same list takes a disjoint slice, and the slices together are the list.
 */
export function takeShard<T>(entries: readonly T[], shard: Shard | undefined): T[] {
  if (!shard || shard.count === 1) return [...entries];
  return entries.filter((_, i) => i % shard.count === shard.index - 1);
}
