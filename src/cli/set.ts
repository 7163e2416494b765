import { parseEntryEditText } from '../gpt/entry-edit.js';
import { planNewGuids } from '../plan/plan-new-guids.js';
import { planSet } from '../plan/plan-set.js';
import { UsageError, parseSectorSize } from './errors.js';
import { runWrite, type WriteFlags } from './write-flow.js';
import { typedCommand } from './format.js';

export interface SetOptions extends WriteFlags {
  type?: string;
  attributes?: string;
  name?: string;
  guid?: string;
  newGuids?: boolean;
  sectorSize?: string;
}

/** `gptdoctor set <disk> <partition> …`: edit one entry in both copies of the table. */
export async function runSet(disk: string, partition: string, options: SetOptions): Promise<number> {
  const sectorOption = (n: number | undefined): { sectorSize?: number } => (n !== undefined ? { sectorSize: n } : {});
  const command = typedCommand('set');
  if (options.newGuids) {
    if (partition !== '' || options.type !== undefined || options.attributes !== undefined || options.name !== undefined || options.guid !== undefined) {
      throw new UsageError('--new-guids changes every GUID of the disk: give it alone, without a partition or other fields');
    }
    return runWrite(disk, options, sectorOption(parseSectorSize(options.sectorSize)), (g) => planNewGuids(g, command));
  }
  if (partition === '') throw new UsageError('<partition> is missing: give the entry number to edit (or --new-guids for the whole disk)');
  const index = Number(partition);
  if (!/^\d+$/.test(partition) || index < 1) throw new UsageError(`<partition> must be a slot number from 1 (got ${partition})`);
  if (options.type === undefined && options.attributes === undefined && options.name === undefined && options.guid === undefined) {
    throw new UsageError('nothing to set: give --type, --attributes, --name and/or --guid (or --new-guids for the whole disk)');
  }
  const sectorSize = parseSectorSize(options.sectorSize);
  // The library takes a typed edit; the words of the options are read here, before the disk is opened.
  const parsed = parseEntryEditText(options);
  if (!parsed.ok) throw new UsageError(parsed.reason);
  const edit = parsed.edit;
  return runWrite(disk, options, sectorOption(sectorSize), (g) => planSet(g, index, edit, command));
}
