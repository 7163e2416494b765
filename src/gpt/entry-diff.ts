import type { GptEntry } from './entries.js';
import { typeByGuid } from './partition-types.js';
import { formatAttributes } from './attributes.js';

/** One field of one partition that differs between two tables. */
export interface EntryDifference {
  partition: number;
  field: 'slot' | 'type' | 'unique GUID' | 'first LBA' | 'last LBA' | 'attributes' | 'name';
  before: string;
  after: string;
}

const typeText = (guid: string): string => `${typeByGuid(guid)?.name ?? 'unknown type'} (${guid})`;
const extent = (e: GptEntry): string => `LBA ${e.firstLba}..${e.lastLba}, ${typeByGuid(e.typeGuid)?.name ?? e.typeGuid}`;

/**
 * Every difference between two tables' used entries, slot by slot and field by field: what a
 * person must see before one table replaces the other. Pure.
 */
export function entryDifferences(before: readonly GptEntry[], after: readonly GptEntry[]): EntryDifference[] {
  const old = new Map(before.map((e) => [e.index, e]));
  const next = new Map(after.map((e) => [e.index, e]));
  const out: EntryDifference[] = [];
  for (const index of [...new Set([...old.keys(), ...next.keys()])].sort((a, b) => a - b)) {
    const a = old.get(index);
    const b = next.get(index);
    if (!a) out.push({ partition: index, field: 'slot', before: 'empty', after: extent(b!) });
    else if (!b) out.push({ partition: index, field: 'slot', before: extent(a), after: 'empty (the partition is gone)' });
    else {
      if (a.typeGuid !== b.typeGuid) out.push({ partition: index, field: 'type', before: typeText(a.typeGuid), after: typeText(b.typeGuid) });
      if (a.uniqueGuid !== b.uniqueGuid) out.push({ partition: index, field: 'unique GUID', before: a.uniqueGuid, after: b.uniqueGuid });
      if (a.firstLba !== b.firstLba) out.push({ partition: index, field: 'first LBA', before: String(a.firstLba), after: String(b.firstLba) });
      if (a.lastLba !== b.lastLba) out.push({ partition: index, field: 'last LBA', before: String(a.lastLba), after: String(b.lastLba) });
      if (a.attributes !== b.attributes) out.push({ partition: index, field: 'attributes', before: formatAttributes(a.attributes), after: formatAttributes(b.attributes) });
      if (a.name !== b.name) out.push({ partition: index, field: 'name', before: JSON.stringify(a.name), after: JSON.stringify(b.name) });
    }
  }
  return out;
}

/** "partition 3: last LBA 1000 → 996" for messages. */
export function describeDifference(d: EntryDifference): string {
  return `partition ${d.partition}: ${d.field} ${d.before} → ${d.after}`;
}
