import type { BlockSource } from '../disk/block-source.js';
import { applyAttributeSpec, attributeNames, formatAttributes } from '../gpt/attributes.js';
import { formatCrc } from '../gpt/crc32.js';
import { arrayCrc, decodeEntry, encodeEntry, type EntryFields } from '../gpt/entries.js';
import { normalizeGuid, ZERO_GUID } from '../gpt/guid.js';
import { resolveType, typeByGuid } from '../gpt/partition-types.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { PlanError, planWrites, type Change, type Plan } from './plan.js';
import { encodeModel, modelFromCopy, modelProblems, type TableModel } from './table-model.js';
import { randomUUID } from 'node:crypto';

/** What `set` may change in one entry; anything left undefined stays as it is. */
export interface EntryEdit {
  type?: string;
  attributes?: string;
  name?: string;
  /** A GUID, or 'random' for a fresh one. */
  guid?: string;
}

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
  if (edit.type !== undefined) {
    const resolved = resolveType(edit.type);
    if (!resolved) throw new PlanError(`unknown partition type "${edit.type}": give a GUID, a gdisk code (EF00, 0C01, 0700, 2700, 8300…) or a name (esp, msr, basic, recovery, linux…)`);
    next.typeGuid = resolved.guid;
  }
  if (edit.attributes !== undefined) next.attributes = asPlanError(() => applyAttributeSpec(entry.attributes, edit.attributes!));
  if (edit.name !== undefined) next.name = edit.name;
  if (edit.guid !== undefined) {
    const guid = edit.guid === 'random' ? randomUUID().toUpperCase() : normalizeGuid(edit.guid);
    if (!guid) throw new PlanError(`"${edit.guid}" is not a GUID (or "random")`);
    next.uniqueGuid = guid;
  }
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

/** The codecs say why a value does not fit with a RangeError; to the user that is a refused plan. */
function asPlanError<T>(encode: () => T): T {
  try {
    return encode();
  } catch (err) {
    if (err instanceof RangeError) throw new PlanError(err.message);
    throw err;
  }
}

/** Refuses edits on a table whose copies are damaged or disagree. */
export function requireHealthyTable(g: LoadedGpt): void {
  const bad: string[] = [];
  if (!g.primary.valid) bad.push('the primary GPT is damaged');
  if (!g.backup.valid) bad.push('the backup GPT is damaged');
  if (g.primary.valid && g.backup.valid && g.primary.header!.entriesCrc32 !== g.backup.header!.entriesCrc32) bad.push('the two copies differ');
  if (bad.length) throw new PlanError(`${bad.join(' and ')}; run \`gptdoctor check\` to see why and \`gptdoctor repair\` to fix it before editing entries`);
}

/** Encodes a model into regions, checks it is valid, and reads the before-images. */
export async function buildPlan(g: LoadedGpt, model: TableModel, command: string, changes: Change[], notes: string[], extra: Parameters<typeof planWrites>[2] = []): Promise<Plan> {
  const problems = modelProblems(model, g.totalSectors);
  if (problems.length) throw new PlanError(`refusing to write an invalid table: ${problems.join('; ')}`);
  const regions = [...encodeModel(model, await currentArrays(g.source, model)), ...extra];
  const writes = await planWrites(g.source, g.sectorSize, regions);
  return { command, source: { path: g.source.path, format: g.source.format, size: g.source.size, sectorSize: g.sectorSize }, writes, changes, notes };
}

/** The sectors the arrays will occupy, as they are now (their tail bytes are kept). */
async function currentArrays(source: BlockSource, m: TableModel): Promise<{ primary: Uint8Array; backup: Uint8Array }> {
  const length = Math.ceil((m.entryCount * m.entrySize) / m.sectorSize) * m.sectorSize;
  return {
    primary: await source.read(m.primaryEntriesLba * m.sectorSize, length),
    backup: await source.read(m.backupEntriesLba * m.sectorSize, length),
  };
}
