/**
 * Data ranges of a virtual disk: the sorted, merged [start, end) byte ranges that can hold
 * non-zero data, as the containers' allocation maps tell them (BlockSource.dataRanges). A whole-
 * disk hunt or a raw copy reads only these. Built from the maps alone, never by reading data, and
 * bounded whatever the maps say: a list never grows past MAX_RANGES (neighbours are then joined
 * over their smallest gaps, so the list only ever grows coarser, never loses data).
 */
export type Range = [number, number];

/** The most ranges a list keeps; past this, neighbours are joined over the smallest gaps. */
export const MAX_RANGES = 65_536;

/** Collects ranges added in ascending order of start, merging those that touch or overlap. */
export class RangeList {
  private readonly list: Range[] = [];

  constructor(private readonly max = MAX_RANGES) {}

  add(from: number, to: number): void {
    if (!(to > from)) return;
    const last = this.list[this.list.length - 1];
    if (last && from <= last[1]) {
      if (to > last[1]) last[1] = to;
      return;
    }
    this.list.push([from, to]);
    if (this.list.length >= 2 * this.max) this.compact();
  }

  addAll(ranges: Iterable<Readonly<Range>>): void {
    for (const [from, to] of ranges) this.add(from, to);
  }

  /** The ranges, at most `max` of them. */
  ranges(): Range[] {
    if (this.list.length > this.max) this.compact();
    return this.list;
  }

  /** Joins neighbours over the smallest gaps until `max` ranges are left. */
  private compact(): void {
    const list = this.list;
    const excess = list.length - this.max;
    if (excess <= 0) return;
    const gaps = new Float64Array(list.length - 1);
    for (let i = 0; i < gaps.length; i++) gaps[i] = list[i + 1]![0] - list[i]![1];
    const threshold = gaps.slice().sort()[excess - 1]!;
    let joinAtThreshold = excess - gaps.filter((g) => g < threshold).length; // ties are joined left to right
    let w = 0;
    for (let i = 1; i < list.length; i++) {
      const gap = gaps[i - 1]!;
      const join = gap < threshold || (gap === threshold && joinAtThreshold > 0);
      if (join) {
        if (gap === threshold) joinAtThreshold--;
        list[w]![1] = list[i]![1];
      } else list[++w] = list[i]!;
    }
    list.length = w + 1;
  }
}

/** The union of several range lists (each sorted or not), sorted, merged and capped. */
export function unionRanges(...lists: ReadonlyArray<ReadonlyArray<Readonly<Range>>>): Range[] {
  const all = lists.flat().slice().sort((a, b) => a[0] - b[0]);
  const out = new RangeList();
  out.addAll(all);
  return out.ranges();
}

/** `ranges` (sorted) cut to [from, to). */
export function clipRanges(ranges: ReadonlyArray<Readonly<Range>>, from: number, to: number): Range[] {
  const out: Range[] = [];
  for (const [a, b] of ranges) {
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

/** The bytes both sorted, merged lists hold. */
export function intersectRanges(a: ReadonlyArray<Readonly<Range>>, b: ReadonlyArray<Readonly<Range>>): Range[] {
  const out: Range[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const lo = Math.max(a[i]![0], b[j]![0]);
    const hi = Math.min(a[i]![1], b[j]![1]);
    if (hi > lo) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

/** What a source's parent or backing file holds: its own ranges, or everything when it cannot tell. */
export async function sourceRanges(source: { size: number; dataRanges?(): Promise<Array<[number, number]>> }): Promise<Range[]> {
  return source.dataRanges ? source.dataRanges() : [[0, source.size]];
}

/**
 * A two-level map (qcow2 L1/L2, VMDK grain directory/tables): `count` directory entries, each
 * naming a table (by its place in the file, `key`) that covers `span` bytes of the virtual disk.
 */
export interface TableMap {
  count: number;
  span: number;
  /** Where directory entry i's table is, or undefined when it has none (nothing allocated). */
  key(i: number): number | undefined;
  /** Calls `add` with the byte ranges, relative to the table's start and ascending, that its entries allocate. */
  scan(key: number, add: (from: number, to: number) => void, index: number): Promise<void>;
}

/** Tables whose allocated extent is remembered, so a table named twice is not scanned again. */
const HULL_CACHE = 65_536;

/**
 * Adds to `out` the ranges a two-level map allocates, for the virtual bytes [base, limit).
 * Every distinct table is scanned once: a table that a (hostile) directory names again counts as
 * data from its first to its last allocated byte, so no directory can make the walk cost more than
 * one scan per table in the file, plus one step per directory entry.
 */
export async function walkTables(map: TableMap, base: number, limit: number, out: RangeList): Promise<void> {
  const hulls = new Map<number, Range | null>();
  for (let i = 0; i < map.count; i++) {
    const start = base + i * map.span;
    if (start >= limit) break;
    const key = map.key(i);
    if (key === undefined) continue;
    const hull = hulls.get(key);
    if (hull !== undefined) {
      if (hull) out.add(start + hull[0], Math.min(start + hull[1], limit));
      continue;
    }
    let lo = Infinity;
    let hi = -Infinity;
    await map.scan(
      key,
      (from, to) => {
        lo = Math.min(lo, from);
        hi = Math.max(hi, to);
        out.add(start + from, Math.min(start + to, limit));
      },
      i,
    );
    if (hulls.size >= HULL_CACHE) hulls.clear();
    hulls.set(key, hi > lo ? [lo, hi] : null);
  }
}

/**
 * Calls `add` with the runs of consecutive entries [i * unit, (i + 1) * unit) for which `bytes(i)`
 * (the data bytes entry i holds, 0 to `unit`) is not 0, over `count` entries: how a table scan
 * turns entries into ranges, a partial entry (data cut short by the end of the file) ending a run.
 */
export function runsOf(count: number, unit: number, bytes: (i: number) => number, add: (from: number, to: number) => void): void {
  let runStart = -1;
  for (let i = 0; i < count; i++) {
    const n = bytes(i);
    if (n > 0 && runStart < 0) runStart = i * unit;
    if (n > 0 && n < unit) {
      add(runStart, i * unit + n);
      runStart = -1;
    } else if (n <= 0 && runStart >= 0) {
      add(runStart, i * unit);
      runStart = -1;
    }
  }
  if (runStart >= 0) add(runStart, count * unit);
}
