import { randomUUID } from 'node:crypto';
import { formatCrc } from '../gpt/crc32.js';
import { arrayCrc } from '../gpt/entries.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { buildPlan, requireHealthyTable, type Change, type Plan } from './plan.js';
import { applyEntryEdit, bcdWarnings } from './plan-set.js';
import { modelFromCopy } from './table-model.js';

/**
 * Plans new identities for a copied disk: a new disk GUID and a new unique GUID for every
 * partition, in both copies of the table (what `sgdisk -G` does, planned, journaled and verified).
 * Windows takes a disk offline when another disk has its disk GUID or one of its partition GUIDs;
 * after this the copy collides with nothing. Types, attributes, names and LBAs are kept.
 */
export async function planNewGuids(g: LoadedGpt, command: string): Promise<Plan> {
  requireHealthyTable(g);
  const model = modelFromCopy(g, 'primary');
  const diskGuid = randomUUID().toUpperCase();
  const changes: Change[] = [{ where: 'both headers', field: 'disk GUID', before: model.diskGuid, after: diskGuid }];
  model.diskGuid = diskGuid;
  const crcBefore = arrayCrc(model.array, model.entryCount, model.entrySize);
  for (const p of g.partitions) changes.push(...applyEntryEdit(model, p.index, { uniqueGuid: 'random' }).changes);
  const crcAfter = arrayCrc(model.array, model.entryCount, model.entrySize);
  if (crcAfter !== crcBefore) changes.push({ where: 'both headers', field: 'entries CRC32', before: formatCrc(crcBefore), after: formatCrc(crcAfter) });
  const notes = [
    ...(await bcdWarnings(g, g.partitions.map((p) => p.index))),
    'Every GUID changes: firmware boot entries, the Windows BCD, and PARTUUID= references (/etc/fstab, the kernel command line) that name this disk must be updated (bcdboot / efibootmgr).',
  ];
  return buildPlan(g, model, command, changes, notes);
}
