import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import type { BlockSource } from '../disk/block-source.js';
import { DiskError } from '../disk/block-source.js';
import { openDisk } from '../disk/open.js';
import { loadGpt, type LoadedGpt, type LoadOptions } from '../read/load-gpt.js';
import { applyPlan, requireWritable, type ApplyResult } from '../repair/apply.js';
import { defaultJournalPath } from '../repair/journal-name.js';
import { flushGroup, type Plan } from '../repair/plan.js';
import { PlanError } from '../repair/plan-set.js';
import { EXIT, UsageError } from './errors.js';
import { colorizer } from './format.js';

export interface WriteFlags {
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  undoFile?: string;
  /** The parent of a differencing VHD/VHDX or VMDK snapshot (--parent). */
  parent?: string;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The plan as JSON: field changes and every write with hashes of its before and after bytes. */
export function planJson(plan: Plan): object {
  return {
    command: plan.command,
    source: plan.source,
    changes: plan.changes,
    notes: plan.notes,
    writes: plan.writes.map((w) => ({ name: w.name, lba: w.lba, offset: w.offset, length: w.after.length, beforeSha256: sha(w.before), afterSha256: sha(w.after) })),
  };
}

export function renderPlan(plan: Plan): string {
  const paint = colorizer(process.stdout);
  if (!plan.writes.length) return `${plan.source.path}: nothing to change.`;
  const lines = [paint('bold', `Plan for ${plan.source.path}:`)];
  for (const c of plan.changes) lines.push(`  ${c.where}: ${c.field}: ${paint('red', c.before)} → ${paint('green', c.after)}`);
  lines.push(paint('bold', 'Writes, in this order (the undo file keeps every original byte):'));
  plan.writes.forEach((w, i) => {
    const next = plan.writes[i + 1];
    lines.push(`  ${String(i + 1).padStart(2)}. ${w.name.padEnd(20)} LBA ${String(w.lba).padEnd(12)} ${w.after.length} bytes`);
    if (!next || flushGroup(next.name) !== flushGroup(w.name)) lines.push('      flush');
  });
  for (const n of plan.notes) lines.push(paint('yellow', `Note: ${n}`));
  return lines.join('\n');
}

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** A VHD/VHDX that differencing images in its directory build on must not change under them. */
async function requireNoChildren(diskPath: string, format: string): Promise<void> {
  if (format !== 'vhd' && format !== 'vhdx') return;
  const children = await (await import('../disk/children.js')).differencingChildren(diskPath);
  if (children.length) {
    throw new DiskError(
      'EBUSY',
      `${diskPath} is the parent of the differencing disk${children.length > 1 ? 's' : ''} ${children.join(', ')}: writing to it would change what they read and break the chain (Hyper-V refuses a child whose parent changed). Merge the chain first, or repair the child. Nothing was written.`,
    );
  }
}

/**
 * Shared flow of every write command: plan on a read-only open, show the plan, ask (or take
 * --yes; refuse without a TTY), then apply through the write protocol and verify.
 */
export async function runWrite(
  diskPath: string,
  flags: WriteFlags,
  load: LoadOptions,
  makePlan: (g: LoadedGpt) => Promise<Plan>,
): Promise<number> {
  let plan: Plan;
  const parent = flags.parent ? { parent: flags.parent } : {};
  const reader = await openDisk(diskPath, parent);
  try {
    plan = await makePlan(await loadGpt(reader, load)).catch((err: unknown) => {
      throw err instanceof PlanError ? new UsageError(err.message) : err;
    });
    // Refuse now, before any prompt, a plan the container cannot take in place (VHDX ZERO blocks…).
    await requireWritable(reader, plan.writes);
    await requireNoChildren(diskPath, reader.format);
  } finally {
    await reader.close();
  }
  const out = (text: string): void => void process.stdout.write(text + '\n');
  if (flags.dryRun || !plan.writes.length) {
    out(flags.json ? JSON.stringify({ plan: planJson(plan), applied: false }, null, 2) : renderPlan(plan) + (plan.writes.length ? '\n(dry run: nothing was written)' : ''));
    return EXIT.OK;
  }
  if (!flags.json) out(renderPlan(plan));
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError('refusing to write without confirmation: pass --yes (or run on a terminal to be asked)');
    if (!(await confirm(`Write these changes to ${diskPath}? [y/N] `))) {
      process.stderr.write('Nothing was written.\n');
      return EXIT.CANNOT_RUN;
    }
  }
  const journalPath = flags.undoFile ?? defaultJournalPath(diskPath, plan.source.format === 'device');
  const writer = await openDisk(diskPath, { writable: true, ...parent });
  let result: ApplyResult;
  let reread: string | undefined;
  let written: LoadedGpt | undefined;
  try {
    result = await applyPlan(plan, writer, {
      journalPath,
      reopen: () => openDisk(diskPath, parent),
      verify: async (fresh: BlockSource) => {
        written = await loadGpt(fresh, load);
        return [written.primary, written.backup].filter((c) => !c.valid).map((c) => `the ${c.which} GPT does not validate after the write`);
      },
    });
    // A device's kernel view is refreshed only when everything verified.
    if (!result.problems.length && writer.rereadPartitionTable && written) reread = await tellTheOs(writer, written);
  } finally {
    await writer.close();
  }
  if (reread && !flags.json) process.stderr.write(`Note: ${reread}.\n`);
  if (flags.json) out(JSON.stringify({ plan: planJson(plan), applied: true, undoFile: result.journalPath, verified: result.problems.length === 0, problems: result.problems }, null, 2));
  if (result.problems.length) {
    process.stderr.write(`gptdoctor: VERIFY FAILED after writing ${diskPath}:\n${result.problems.map((p) => `  ${p}`).join('\n')}\nRestore the original bytes with: gptdoctor undo ${result.journalPath}\n`);
    return EXIT.CANNOT_RUN;
  }
  if (!flags.json) out(`Wrote ${result.written} region${result.written === 1 ? '' : 's'} and verified them by re-reading.\nUndo with: gptdoctor undo ${result.journalPath}`);
  return EXIT.OK;
}

/** Asks the OS to take the new table, and says in one sentence what it did. */
export async function tellTheOs(writer: BlockSource, g: LoadedGpt): Promise<string | undefined> {
  const table = g.partitions.map((p) => ({ number: p.index, start: p.firstLba * g.sectorSize, length: (p.lastLba - p.firstLba + 1) * g.sectorSize }));
  try {
    const told = await writer.rereadPartitionTable!(table);
    if (told.method === 'none') return undefined;
    if (told.method === 'reread') return 'the kernel re-read the partition table';
    const changes = told.changes.length
      ? `it was told of each change instead (BLKPG): ${told.changes.join(', ')}`
      : told.failures.length
        ? 'telling it of each change instead (BLKPG) did not work either'
        : 'its partitions already had the new extents (names, types and attributes it learns at the next rescan)';
    const failures = told.failures.length ? `; not changed: ${told.failures.join('; ')} (until it is closed and the table re-read, or the next boot)` : '';
    return `a partition is open, so the kernel could not re-read the whole table; ${changes}${failures}`;
  } catch (err) {
    return `the kernel could not re-read the partition table yet (${(err as Error).message}); it will at the next boot or after the partitions are unmounted`;
  }
}
