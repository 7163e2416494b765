import { encodeProtectiveMbr } from '../gpt/mbr.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { Plan } from '../repair/plan.js';
import { PlanError, buildPlan } from '../repair/plan-set.js';
import type { Region } from '../repair/table-model.js';
import { modelFromCandidate, type Candidate } from './candidates.js';

/** Plans writing a recovered table: both GPT copies, and a protective MBR where LBA 0 lacks one. */
export async function planRecover(g: LoadedGpt, c: Candidate, command: string): Promise<Plan> {
  const model = modelFromCandidate(g, c);
  const outside = c.partitions.filter((p) => p.firstLba < model.firstUsableLba || p.lastLba > model.lastUsableLba);
  if (outside.length) {
    throw new PlanError(`candidate ${c.rank} does not fit this disk: partition${outside.length > 1 ? 's' : ''} ${outside.map((p) => p.index).join(', ')} lie outside LBA ${model.firstUsableLba}..${model.lastUsableLba}`);
  }
  const extra: Region[] = [];
  const changes = [
    { where: 'GPT', field: 'table', before: g.table === 'none' ? 'no valid copy' : `current ${g.table} table`, after: `candidate ${c.rank}: ${c.partitions.length} partitions (${c.basis === 'headers' ? 'vouched for by a valid header' : 'from an entry array alone'})` },
  ];
  if (g.mbr.kind !== 'protective') {
    extra.push({ name: 'protective MBR', lba: 0, bytes: encodeProtectiveMbr(g.totalSectors, g.sectorSize, g.mbr.bootSignature ? g.mbr.raw : undefined) });
    changes.push({ where: 'LBA 0', field: 'MBR', before: g.mbr.kind, after: 'protective MBR' });
  }
  const notes = c.diskGuid ? [] : ['No header survived, so the disk GUID is new; UEFI boot entries keep working (they name partition GUIDs, which are kept).'];
  return buildPlan(g, model, command, changes, notes, extra);
}
