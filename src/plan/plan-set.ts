import { attributeNames, editedAttributes, formatAttributes } from '../gpt/attributes.js';
import type { EntryEdit } from '../gpt/entry-edit.js';
import { formatCrc } from '../gpt/crc32.js';
import { arrayCrc, decodeEntry, encodeEntry, type EntryFields } from '../gpt/entries.js';
import { normalizeGuid, ZERO_GUID } from '../gpt/guid.js';
import { typeByGuid } from '../gpt/partition-types.js';
import { BCDBOOT_COMMAND, bcdReferences, findBcd, partitionOfDevice } from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { buildPlan, PlanError, requireHealthyTable, type Change, type Plan } from './plan.js';
import { modelFromCopy, type TableModel } from './table-model.js';
import { randomUUID } from 'node:crypto';

export type { EntryEdit };
export { PlanError };

const typeLabel = (guid: string): string => `${typeByGuid(guid)?.name ?? 'unknown type'} (${guid})`;

/**
 * Plans an edit of one entry. Both copies of the table must be valid and agree: `set` edits a
 * healthy table and never repairs on the side (that is `repair`'s job, and it says so).
 */
export async function planSet(g: LoadedGpt, index: number, edit: EntryEdit, command: string): Promise<Plan> {
  requireHealthyTable(g);
  const model = modelFromCopy(g, 'primary');
  const before = arrayCrc(model.array, model.entryCount, model.entrySize);
  const { changes, notes } = applyEntryEdit(model, index, edit, g.partitions.map((p) => p.index));
  if (edit.uniqueGuid !== undefined) notes.unshift(...(await bcdWarnings(g, [index])));
  const after = arrayCrc(model.array, model.entryCount, model.entrySize);
  if (before !== after) changes.push({ where: 'both headers', field: 'entries CRC32', before: formatCrc(before), after: formatCrc(after) });
  return buildPlan(g, model, command, changes, notes);
}

/**
 * Applies an edit to one entry of a model's array, in place. Only the named fields change;
 * unknown attribute bits and reserved entry bytes stay as they are.
 */
export function applyEntryEdit(model: TableModel, index: number, edit: EntryEdit, usedSlots: readonly number[] = []): { changes: Change[]; notes: string[] } {
  if (!Number.isInteger(index) || index < 1 || index > model.entryCount) {
    throw new PlanError(`partition ${index} does not exist: the table has slots 1..${model.entryCount}`);
  }
  const offset = (index - 1) * model.entrySize;
  const raw = model.array.subarray(offset, offset + model.entrySize);
  const entry = decodeEntry(raw, index);
  if (entry.typeGuid === ZERO_GUID) {
    throw new PlanError(`slot ${index} is empty; gptdoctor set edits existing partitions (used slots: ${usedSlots.join(', ') || 'none'})`);
  }
  const next: EntryFields = entry.fields();
  if (edit.typeGuid !== undefined) next.typeGuid = requireGuid(edit.typeGuid, 'type GUID');
  if (edit.attributes !== undefined) next.attributes = editedAttributes(entry.attributes, edit.attributes);
  if (edit.name !== undefined) next.name = edit.name;
  if (edit.uniqueGuid !== undefined) next.uniqueGuid = edit.uniqueGuid === 'random' ? randomUUID().toUpperCase() : requireGuid(edit.uniqueGuid, 'unique GUID');
  model.array.set(asPlanError(() => encodeEntry(next, raw)), offset);

  const where = `partition ${index}`;
  const changes: Change[] = [];
  if (next.typeGuid !== entry.typeGuid) changes.push({ where, field: 'type', before: typeLabel(entry.typeGuid), after: typeLabel(next.typeGuid) });
  if (next.attributes !== entry.attributes) {
    const show = (v: bigint): string => `${formatAttributes(v)}${attributeNames(v).length ? ` (${attributeNames(v).join(', ')})` : ''}`;
    changes.push({ where, field: 'attributes', before: show(entry.attributes), after: show(next.attributes) });
  }
  if (next.name !== entry.name) changes.push({ where, field: 'name', before: JSON.stringify(entry.name), after: JSON.stringify(next.name) });
  if (next.uniqueGuid !== entry.uniqueGuid) changes.push({ where, field: 'unique GUID', before: entry.uniqueGuid, after: next.uniqueGuid });
  const notes = next.uniqueGuid !== entry.uniqueGuid
    ? ['The unique partition GUID changes: UEFI boot entries and the Windows BCD that name this partition must be updated (bcdboot / efibootmgr).']
    : [];
  return { changes, notes };
}

/**
 * A new unique GUID on a partition the Windows BCD names leaves Windows unbootable until bcdboot
 * rebuilds the store: the plan says so, naming the references, before anything is written.
 */
export async function bcdWarnings(g: LoadedGpt, indexes: readonly number[]): Promise<string[]> {
  const found = await findBcd(g);
  if (found?.bcd.state !== 'read') return [];
  const refs = bcdReferences(found.bcd.store).map((r) => ({ r, at: partitionOfDevice(g, r.device)?.index })).filter((x) => x.at !== undefined && indexes.includes(x.at));
  if (refs.length === 0) return [];
  const named = [...new Set(refs.map((x) => x.at!))];
  const which = named.length === 1 ? `partition ${named[0]}` : `partitions ${named.join(', ')}`;
  return [`WARNING: the Windows BCD on partition ${found.esp.index} names ${which} (${refs.map((x) => `${x.r.object} ${x.r.element}`).join(', ')}). After this change Windows Boot Manager stops with 0xc000000e until the store is rebuilt from WinPE: ${BCDBOOT_COMMAND}.`];
}

/** A library caller may hand any text as a GUID; the table only takes the canonical form. */
function requireGuid(text: string, what: string): string {
  const guid = normalizeGuid(text);
  if (!guid) throw new PlanError(`${what} "${text}" is not a GUID`);
  return guid;
}

/** The codecs say why a value does not fit with a RangeError; to the user that is a refused plan. */
function asPlanError<T>(encode: () => T): T {
  try {
    return encode();
  } catch (err) {
    if (err instanceof RangeError) throw new PlanError(err.message);
    throw err;
  }
}
