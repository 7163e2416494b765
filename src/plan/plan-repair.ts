import { formatCrc } from '../gpt/crc32.js';
import { arrayCrc } from '../gpt/entries.js';
import { GPT_SIGNATURE, arraySectors } from '../gpt/header.js';
import { encodeProtectiveMbr } from '../gpt/mbr.js';
import { copyEntries, type GptCopy, type LoadedGpt } from '../read/load-gpt.js';
import { entryProblems, neededBytes, partitionsPastBackupArea } from '../check/entry-soundness.js';
import { describeDifference, entryDifferences } from '../gpt/entry-diff.js';
import { decodeUsedEntries } from '../gpt/entries.js';
import type { Finding } from '../check/finding.js';
import type { Change, Plan } from './plan.js';
import { parseEntryEditText, type EntryEdit } from '../gpt/entry-edit.js';
import { buildPlan, PlanError } from './plan.js';
import { applyEntryEdit } from './plan-set.js';
import { modelFromCopy, type Region, type TableModel } from './table-model.js';

export interface RepairOptions {
  command: string;
  /** Findings of `check` on this disk; boot-layout fixes are taken from them when `applyBootFixes`. */
  findings: readonly Finding[];
  /** Apply the ESP/MSR/Recovery fixes check marked with a fix line (profiles windows and uefi). */
  applyBootFixes: boolean;
  /** Keep a hybrid MBR's extra records instead of writing a plain protective MBR. */
  keepHybrid?: boolean;
  /** Overwrite an MBR that holds real partitions (the GPT may be the stale one otherwise). */
  replaceMbr?: boolean;
}

/** Boot findings whose `set` fix repair applies itself (never a GUID change: repair keeps identities). */
const BOOT_FIXES: ReadonlySet<string> = new Set(['esp-type', 'esp-not-fat', 'msr-type', 'esp-attributes', 'recovery-attributes']);

/**
 * The `set` edit of a confidently fixable boot finding: the very edit its fix line makes, read
 * from the fix line's words by the same parser as `set` itself.
 */
function bootEdit(f: Finding): EntryEdit | undefined {
  if (f.edit === undefined || f.partition === undefined || !BOOT_FIXES.has(f.code) || f.edit.guid !== undefined) return undefined;
  const parsed = parseEntryEditText({ ...(f.edit.type ? { type: f.edit.type } : {}), ...(f.edit.attributes ? { attributes: f.edit.attributes } : {}) });
  // check wrote these words itself, so a parse failure is a bug in gptdoctor, not a refusal.
  if (!parsed.ok) throw new Error(`the fix of ${f.code} does not parse: ${parsed.reason}`);
  return parsed.edit;
}

/**
 * Plans a repair: rebuild a damaged copy from the intact one, move the backup to the real end
 * of the disk (zeroing the stale header at the old end), write a proper protective MBR, and
 * optionally apply boot-layout fixes. Disk and partition GUIDs never change.
 */
export async function planRepair(g: LoadedGpt, options: RepairOptions): Promise<Plan> {
  if (!g.primary.valid && !g.backup.valid) {
    const intactArray = [g.primary, g.backup].some((c) => c.headerValid || (c.array && c.computedEntriesCrc32 !== undefined));
    throw new PlanError(
      `neither copy of the GPT is intact (${describe(g)}); repair needs one good copy.` +
        (intactArray ? ' An entry array may survive: run `gptdoctor recover` to hunt for the table.' : ' Run `gptdoctor recover` to hunt for lost tables.'),
    );
  }
  const from = soundSource(g);
  const model = modelFromCopy(g, from);
  const changes: Change[] = [];
  const notes: string[] = [];
  const extra: Region[] = [];
  const other = from === 'primary' ? g.backup : g.primary;
  const rebuilt = from === 'primary' ? 'backup GPT' : 'primary GPT';

  // Rewriting a valid copy shows, entry by entry, what the source copy puts in its place.
  const entryRows = (): Change[] => entryDifferences(copyEntries(g, other), copyEntries(g, g[from])).map((d) => ({ where: `${rebuilt}, partition ${d.partition}`, field: d.field, before: d.before, after: d.after }));
  const unsound = other.valid ? entryProblemsOf(g, other) : [];
  if (!other.valid) changes.push({ where: rebuilt, field: 'header and entries', before: other.headerValid ? 'entries damaged' : 'damaged or missing', after: `rebuilt from the ${from}` });
  else if (unsound.length) {
    changes.push({ where: rebuilt, field: 'header and entries', before: `CRC-valid but unsound (${unsound.join('; ')})`, after: `rewritten from the ${from}, whose entries are sound` }, ...entryRows());
  } else if (g.primary.header!.entriesCrc32 !== g.backup.header!.entriesCrc32 || g.primary.header!.diskGuid !== g.backup.header!.diskGuid) {
    changes.push({ where: rebuilt, field: 'header and entries', before: `disagrees with the ${from}`, after: `rewritten from the ${from}` }, ...entryRows());
  }

  relocateBackup(g, model, changes, notes, extra);
  extra.push(...mbrRegion(g, options, changes));

  if (options.applyBootFixes) {
    const crcBefore = arrayCrc(model.array, model.entryCount, model.entrySize);
    for (const f of options.findings) {
      const edit = bootEdit(f);
      if (edit) changes.push(...applyEntryEdit(model, f.partition!, edit).changes.map((c) => ({ ...c, field: `${c.field} (${f.code})` })));
    }
    const crcAfter = arrayCrc(model.array, model.entryCount, model.entrySize);
    if (crcAfter !== crcBefore) changes.push({ where: 'both headers', field: 'entries CRC32', before: formatCrc(crcBefore), after: formatCrc(crcAfter) });
  }
  return buildPlan(g, model, options.command, changes, notes, extra);
}

/**
 * The copy to rebuild the other from: a CRC-valid copy whose entries are also sound (inside its
 * usable range, no overlaps), the primary first as UEFI says. A CRC-valid copy with unsound
 * entries is never copied over a sound one; when no copy is sound, repair refuses and shows how
 * the copies differ, for a person to decide.
 */
function soundSource(g: LoadedGpt): 'primary' | 'backup' {
  for (const which of ['primary', 'backup'] as const) if (g[which].valid && !entryProblemsOf(g, g[which]).length) return which;
  const valid = (['primary', 'backup'] as const).filter((w) => g[w].valid);
  const why = valid.map((w) => `the ${w}'s entries: ${entryProblemsOf(g, g[w]).join('; ')}`).join('. ');
  const diff = valid.length === 2 ? entryDifferences(copyEntries(g, g.primary), copyEntries(g, g.backup)).slice(0, 8).map(describeDifference) : [];
  throw new PlanError(
    `no copy of the GPT is sound, so repair will not choose one: ${why}.` +
      (diff.length ? ` The copies differ (primary → backup): ${diff.join('; ')}.` : '') +
      ' Fix the entries with `gptdoctor set`, or inspect both copies with `gptdoctor inspect`. Nothing was written.',
  );
}

/** A valid copy's entries, judged against its own header's usable range. */
function entryProblemsOf(g: LoadedGpt, c: GptCopy): string[] {
  return entryProblems(copyEntries(g, c), c.header!.firstUsableLba, c.header!.lastUsableLba);
}

function describe(g: LoadedGpt): string {
  const state = (c: LoadedGpt['primary']): string => (c.headerValid ? 'entries damaged' : c.header?.signature === GPT_SIGNATURE ? 'header damaged' : 'no header');
  return `primary: ${state(g.primary)}; backup at LBA ${g.backup.lba}: ${state(g.backup)}`;
}

/**
 * The backup belongs on the last LBA, with its array just before it and the usable range ending
 * just before that. On a grown disk it moves out and the usable range grows; on a truncated
 * image it moves in and the usable range shrinks, if no partition is in the way.
 */
function relocateBackup(g: LoadedGpt, m: TableModel, changes: Change[], notes: string[], extra: Region[]): void {
  const sectors = arraySectors(m.entryCount, m.entrySize, m.sectorSize);
  const newEntriesLba = g.lastLba - sectors;
  const moves = m.backupLba !== g.lastLba || m.backupEntriesLba !== newEntriesLba;
  const tooLong = m.lastUsableLba >= newEntriesLba;
  if (!moves && !tooLong) return;
  const newLastUsable = moves ? newEntriesLba - 1 : Math.min(m.lastUsableLba, newEntriesLba - 1);
  const blocking = partitionsPastBackupArea(decodeUsedEntries(m.array, m.entrySize, m.entryCount), g.lastLba, sectors);
  if (blocking.length) {
    const needed = neededBytes(g);
    throw new PlanError(
      `the backup GPT must sit at the end of the disk (entries at LBA ${newEntriesLba}), but partition${blocking.length > 1 ? 's' : ''} ${blocking.map((p) => p.index).join(', ')} reach${blocking.length > 1 ? '' : 'es'} past LBA ${newLastUsable}: the image is too short for its partitions. Extend it to ${needed} bytes, the size its table was written for (truncate -s ${needed} FILE), and run repair again`,
    );
  }
  const oldLba = m.backupLba;
  if (moves) {
    changes.push({ where: 'backup GPT', field: 'location', before: `header LBA ${oldLba}, entries LBA ${m.backupEntriesLba}`, after: `header LBA ${g.lastLba}, entries LBA ${newEntriesLba}` });
  }
  if (newLastUsable !== m.lastUsableLba) changes.push({ where: 'both headers', field: 'last usable LBA', before: String(m.lastUsableLba), after: String(newLastUsable) });
  m.backupLba = g.lastLba;
  m.backupEntriesLba = newEntriesLba;
  m.lastUsableLba = newLastUsable;
  const stale = g.backup.headerValid && g.backup.lba === oldLba && oldLba < g.lastLba;
  const insidePartition = g.partitions.some((p) => p.firstLba <= oldLba && oldLba <= p.lastLba);
  if (stale && !insidePartition) {
    extra.push({ name: 'stale backup header', lba: oldLba, bytes: new Uint8Array(m.sectorSize) });
    changes.push({ where: `LBA ${oldLba}`, field: 'old backup header', before: '"EFI PART" header', after: 'zeroed (so no tool finds a stale GPT there later)' });
  } else if (stale) {
    notes.push(`The old backup header at LBA ${oldLba} lies inside a partition and was left alone.`);
  }
}

/** A fresh protective MBR when LBA 0 lacks one, has a bad 0xEE record, or is hybrid. */
function mbrRegion(g: LoadedGpt, options: RepairOptions, changes: Change[]): Region[] {
  const mbr = g.mbr;
  const needs = options.findings.some((f) => f.code === 'pmbr-missing' || (f.code === 'pmbr-invalid' && f.severity !== 'info') || (f.code === 'hybrid-mbr' && !options.keepHybrid));
  if (!needs) return [];
  if (mbr.kind === 'legacy' && mbr.records.some((r) => r.osType !== 0) && !options.replaceMbr) {
    throw new PlanError('LBA 0 holds an MBR partition table, so the GPT may be the stale one (a disk repartitioned as MBR). Refusing to overwrite it; pass --replace-mbr if the GPT is the table in use.');
  }
  if (mbr.kind === 'hybrid' && options.keepHybrid) return [];
  const bytes = encodeProtectiveMbr(g.totalSectors, g.sectorSize, mbr.bootSignature ? mbr.raw : undefined);
  changes.push({ where: 'LBA 0', field: 'MBR', before: mbr.kind === 'none' ? 'missing' : `${mbr.kind} MBR`, after: 'protective MBR (one 0xEE record covering the disk; boot code kept)' });
  return [{ name: 'protective MBR', lba: 0, bytes }];
}
