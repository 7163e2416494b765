import type { GptEntry } from '../gpt/entries.js';
import type { Finding } from './finding.js';

/** Overlap groups reported one by one; past this many, one more finding counts the rest. */
const MAX_GROUPS = 64;
/** Pairs spelled out in the finding of one group. */
const EXAMPLE_PAIRS = 4;
/** Partition numbers listed in the finding of one group. */
const LISTED_MEMBERS = 8;

interface Group {
  members: GptEntry[];
  pairs: number;
  examples: Array<[GptEntry, GptEntry]>;
  firstLba: number;
  lastLba: number;
}

/**
 * Overlapping partitions, as groups: partitions joined by overlaps, each group one finding with
 * its number of overlapping pairs and a few of them spelled out. A sweep over partitions sorted
 * by start, with a min-heap of the ends still open, counts pairs in O(n log n) without listing
 * them: 8,192 copies of one entry make 33 million pairs and one finding, not a stack overflow.
 */
export function overlapFindings(parts: readonly GptEntry[]): Finding[] {
  const sorted = parts.filter((e) => e.firstLba <= e.lastLba).sort((a, b) => a.firstLba - b.firstLba || a.index - b.index);
  const open = new EndHeap();
  const groups: Group[] = [];
  // The group being swept is sorted[start..i]; a Group is made only for one with an overlap, since
  // on a sound table every partition is a group of one (32,768 of them).
  let start = 0;
  let pairs = 0;
  let examples: Array<[GptEntry, GptEntry]> = [];
  let lastLba = 0;
  const close = (end: number): void => {
    if (pairs === 0) return;
    groups.push({ members: sorted.slice(start, end), pairs, examples, firstLba: sorted[start]!.firstLba, lastLba });
    examples = [];
  };
  sorted.forEach((e, i) => {
    open.popBefore(e.firstLba);
    if (open.size === 0) {
      close(i);
      start = i;
      pairs = 0;
      lastLba = e.lastLba;
    }
    // Every end still open is at or after e's start: each of those partitions overlaps e.
    pairs += open.size;
    if (open.size > 0) {
      for (const other of open.entries()) {
        if (examples.length >= EXAMPLE_PAIRS) break;
        examples.push(other.index < e.index ? [other, e] : [e, other]);
      }
    }
    lastLba = Math.max(lastLba, e.lastLba);
    open.push(e);
  });
  close(sorted.length);
  const out = groups.slice(0, MAX_GROUPS).map(groupFinding);
  if (groups.length > MAX_GROUPS) {
    const rest = groups.slice(MAX_GROUPS);
    out.push({ code: 'partition-overlap', severity: 'error', partition: Math.min(...rest[0]!.members.map((m) => m.index)), message: `and ${rest.length} more groups of overlapping partitions (${rest.reduce((n, g) => n + g.pairs, 0)} pairs)` });
  }
  return out;
}

const by = ([x, y]: [GptEntry, GptEntry]): number => Math.min(x.lastLba, y.lastLba) - Math.max(x.firstLba, y.firstLba) + 1;

function groupFinding(g: Group): Finding {
  const indexes = g.members.map((m) => m.index).sort((a, b) => a - b);
  if (g.pairs === 1) {
    const [x, y] = g.examples[0]!;
    return { code: 'partition-overlap', severity: 'error', partition: x.index, message: `partitions ${x.index} (LBA ${x.firstLba}..${x.lastLba}) and ${y.index} (LBA ${y.firstLba}..${y.lastLba}) overlap by ${by([x, y])} sectors` };
  }
  const listed = indexes.slice(0, LISTED_MEMBERS).join(', ') + (indexes.length > LISTED_MEMBERS ? `, … (${indexes.length} partitions)` : '');
  const examples = g.examples.map((p) => `${p[0].index} and ${p[1].index} by ${by(p)} sectors`).join(', ');
  return {
    code: 'partition-overlap',
    severity: 'error',
    partition: indexes[0]!,
    message: `partitions ${listed} overlap each other within LBA ${g.firstLba}..${g.lastLba}: ${g.pairs} overlapping pairs, such as ${examples}`,
  };
}

/** A binary min-heap of open partitions keyed by their last LBA. */
class EndHeap {
  private readonly items: GptEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  entries(): readonly GptEntry[] {
    return this.items;
  }

  push(e: GptEntry): void {
    const a = this.items;
    a.push(e);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.lastLba <= a[i]!.lastLba) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  /** Drops every partition that ends before `lba`: it can overlap nothing that starts there or later. */
  popBefore(lba: number): void {
    const a = this.items;
    while (a.length && a[0]!.lastLba < lba) {
      const last = a.pop()!;
      if (!a.length) break;
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.lastLba < a[m]!.lastLba) m = l;
        if (r < a.length && a[r]!.lastLba < a[m]!.lastLba) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
  }
}
