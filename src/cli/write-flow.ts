import { sha256Hex as sha } from '../sha256.js';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BlockSource } from '../disk/block-source.js';
import { DiskError, systemErrorCode, writableDisk, type DiskErrorCode } from '../disk/block-source.js';
import { openDisk } from '../disk/open.js';
import { displayPath, isHttpUrl, urlFileName } from '../disk/url-redact.js';
import { copyName } from '../check/fix-target.js';
import { shellQuote } from '../check/finding.js';
import { outputExists, writeRawCopy } from '../write/copy-out.js';
import type { JournalPath } from '../write/journal.js';
import { ask } from './prompt.js';
import { cliOpenOptions, percentOnTerminal } from './progress.js';
import { loadGpt, type LoadedGpt, type LoadOptions } from '../read/load-gpt.js';
import { applyPlan, requireWritable, type ApplyResult } from '../write/apply.js';
import { defaultJournalPath } from '../write/journal-name.js';
import { flushGroup, type Plan } from '../plan/plan.js';
import { PlanError } from '../plan/plan-set.js';
import { EXIT, UsageError } from './errors.js';
import { colorizer } from './format.js';

export interface WriteFlags {
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  undoFile?: string;
  /** The parent of a differencing VHD/VHDX or VMDK snapshot (--parent). */
  parent?: string;
  /** Write a repaired raw copy here and leave the disk named as it is (--output). */
  output?: string;
  /** Set by `recover --replace-table`: a table for another sector size may replace a valid one. */
  replacesOtherSectorSize?: boolean;
}


/** The plan as JSON: field changes and every write with hashes of its before and after bytes. */
export function planJson(plan: Plan, output?: string): object {
  return {
    command: plan.command,
    source: plan.source,
    ...(output !== undefined ? { output } : {}),
    changes: plan.changes,
    notes: plan.notes,
    writes: plan.writes.map((w) => ({ name: w.name, lba: w.lba, offset: w.offset, length: w.after.length, beforeSha256: sha(w.before), afterSha256: sha(w.after) })),
  };
}

export function renderPlan(plan: Plan, output?: string): string {
  const paint = colorizer(process.stdout);
  if (!plan.writes.length) return `${plan.source.path}: nothing to change.`;
  const lines = [paint('bold', `Plan for ${plan.source.path}:`)];
  if (output !== undefined) lines.push(`  (written to a repaired raw copy, ${output}; ${plan.source.path} itself is not changed)`);
  for (const c of plan.changes) lines.push(`  ${c.where}: ${c.field}: ${paint('red', c.before)} → ${paint('green', c.after)}`);
  lines.push(paint('bold', `Writes${output !== undefined ? ' to the copy' : ''}, in this order (the undo file keeps every original byte):`));
  plan.writes.forEach((w, i) => {
    const next = plan.writes[i + 1];
    lines.push(`  ${String(i + 1).padStart(2)}. ${w.name.padEnd(20)} LBA ${String(w.lba).padEnd(12)} ${w.after.length} bytes`);
    if (!next || flushGroup(next.name) !== flushGroup(w.name)) lines.push('      flush');
  });
  for (const n of plan.notes) lines.push(paint('yellow', `Note: ${n}`));
  return lines.join('\n');
}

/** A VHD/VHDX that differencing images in its directory build on must not change under them. */
async function requireNoChildren(diskPath: string, format: string): Promise<void> {
  if (format !== 'vhd' && format !== 'vhdx') return;
  const children = await (await import('../disk/children.js')).differencingChildren(diskPath);
  if (children.length) {
    throw new DiskError(
      'EBUSY',
      `${diskPath} is the parent of the differencing disk${children.length > 1 ? 's' : ''} ${children.join(', ')}: writing to it would change what they read and break the chain (Hyper-V refuses a child whose parent changed). Merge the chain first, repair the child, or write a repaired copy with --output FILE. Nothing was written.`,
    );
  }
}

/**
 * A wrong sector size is not damage: when the GPT is valid at another size than the one read
 * with (--sector-size, or a 512-byte image attached as a 4096-byte loop device), no write may
 * "repair" it. The refusal names the size to use.
 */
function requireRightSectorSize(g: LoadedGpt, diskPath: string): void {
  const valid = g.sectorSizeChoice.gptSeenAt;
  if (!valid.length || valid.includes(g.sectorSize)) return;
  const how = g.sectorSizeChoice.reason === 'override' ? `--sector-size ${valid[0]}` : `a ${valid[0]}-byte-sector view of it (for an image, --sector-size ${valid[0]}; for a loop device, losetup --sector-size ${valid[0]})`;
  throw new DiskError('EINVAL', `${diskPath} is read with ${g.sectorSize}-byte sectors, but its GPT is valid for ${valid.join('/')}-byte sectors: nothing is damaged. Use ${how}. Nothing was written.`);
}

/**
 * Refuses, before the plan is shown, a disk that cannot take this plan's writes in place. The
 * copy offered for a URL is named after its last path part, in the current directory.
 */
async function requireInPlace(reader: BlockSource, diskPath: string, plan: Plan): Promise<void> {
  const copy = copyName(isHttpUrl(diskPath) ? urlFileName(diskPath) : diskPath);
  const instead = `Write a repaired raw copy instead (the input is not changed): add --output ${shellQuote(copy)}. `;
  if (reader.readOnlyReason) throw new DiskError('EROFS', `${displayPath(diskPath)} cannot be written in place: ${reader.readOnlyReason}. ${instead}Nothing was written.`);
  await requireWritable(reader, plan.writes, instead);
}

/**
 * Everything that could refuse the write once it is confirmed, checked before the plan is shown:
 * no terminal to ask on, a target that cannot be written, an undo file that cannot be made.
 */
function preflight(target: string, isDevice: boolean, flags: WriteFlags, journal: string): void {
  if (!flags.yes && !process.stdin.isTTY) throw new UsageError('refusing to write without confirmation: pass --yes (or run on a terminal to be asked). Nothing was written.');
  const refuse = (code: DiskErrorCode, message: string): never => {
    throw new DiskError(code, `${message}. Nothing was written.`);
  };
  const writableDir = (dir: string, what: string): void => {
    try {
      if (!statSync(dir).isDirectory()) refuse('ENOTDIR', `${dir} (where the ${what} goes) is not a directory`);
      accessSync(dir, constants.W_OK);
    } catch (err) {
      if (err instanceof DiskError) throw err;
      const code = systemErrorCode(err);
      refuse(code, code === 'ENOENT' ? `the directory ${dir} for the ${what} does not exist` : `cannot write the ${what} into ${dir} (${code})`);
    }
  };
  if (flags.output !== undefined) {
    if (existsSync(flags.output)) throw outputExists(flags.output);
    writableDir(dirname(resolve(flags.output)), 'repaired copy');
  } else if (!isDevice) {
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      const code = systemErrorCode(err);
      refuse(code, `${target} cannot be opened for writing (${code}); write a repaired copy with --output FILE, or fix its permissions`);
    }
  }
  if (flags.undoFile !== undefined && existsSync(flags.undoFile)) refuse('EEXIST', `undo file ${flags.undoFile} already exists; choose another with --undo-file`);
  writableDir(dirname(resolve(journal)), 'undo file');
}

/**
 * Shared flow of every write command: plan on a read-only open; check everything that could
 * refuse; show the plan; ask (or take --yes); then apply through the write protocol and verify.
 * With --output the disk named is only read: its virtual disk is copied to a sparse raw image,
 * and the plan is made again on the copy and applied there (undo and verify apply to the copy).
 */
export async function runWrite(
  diskPath: string,
  flags: WriteFlags,
  load: LoadOptions,
  makePlan: (g: LoadedGpt) => Promise<Plan>,
  /** Runs on the disk written (or found with nothing to do), not after a dry run; returns the exit status. */
  afterwards?: (target: string) => Promise<number>,
): Promise<number> {
  let plan: Plan;
  const parent = cliOpenOptions(flags.parent);
  const output = flags.output;
  // A URL is shown without its query (a presigned signature, a SAS token), and only read.
  const shown = displayPath(diskPath);
  if (output !== undefined && isHttpUrl(output)) throw new UsageError(`--output names a new local file for the repaired copy, not a URL (got ${displayPath(output)})`);
  const reader = await openDisk(diskPath, parent);
  try {
    const loaded = await loadGpt(reader, load);
    if (!flags.replacesOtherSectorSize) requireRightSectorSize(loaded, shown);
    plan = await makePlan(loaded).catch((err: unknown) => {
      throw err instanceof PlanError ? new UsageError(err.message) : err;
    });
    if (output === undefined && plan.writes.length) {
      // Refuse now, before any prompt, a plan the container cannot take in place (VHDX ZERO blocks…).
      await requireInPlace(reader, diskPath, plan);
      if (!isHttpUrl(diskPath)) await requireNoChildren(diskPath, reader.format);
    }
  } finally {
    await reader.close();
  }
  const out = (text: string): void => void process.stdout.write(text + '\n');
  const isDevice = plan.source.format === 'device';
  const target = output ?? diskPath;
  const journalPath: JournalPath = flags.undoFile ?? ((attempt) => defaultJournalPath(target, output === undefined && isDevice, new Date(), attempt));
  if (plan.writes.length && !flags.dryRun) preflight(diskPath, isDevice, flags, typeof journalPath === 'string' ? journalPath : journalPath(0));
  if (flags.dryRun || !plan.writes.length) {
    const note = output !== undefined && plan.writes.length ? `\n(dry run: nothing was written, and ${output} was not made)` : plan.writes.length ? '\n(dry run: nothing was written)' : '';
    out(flags.json ? JSON.stringify({ plan: planJson(plan, output), applied: false }, null, 2) : renderPlan(plan, output) + note);
    return !flags.dryRun && afterwards ? afterwards(diskPath) : EXIT.OK;
  }
  if (!flags.json) out(renderPlan(plan, output));
  if (!flags.yes) {
    const answer = await ask(`Write these changes to ${target}? [y/N] `);
    if (answer === 'interrupted' || answer === 'closed') {
      process.stderr.write('\naborted, nothing was written\n');
      return answer === 'interrupted' ? EXIT.INTERRUPTED : EXIT.CANNOT_RUN;
    }
    if (answer === 'no') {
      process.stderr.write('Nothing was written.\n');
      return EXIT.CANNOT_RUN;
    }
  }
  if (output !== undefined) plan = await copyAndReplan(diskPath, output, parent, { ...load, sectorSize: plan.source.sectorSize }, makePlan);
  const writer = await openDisk(target, { writable: true, ...(output === undefined ? parent : {}) });
  let result: ApplyResult;
  let reread: string | undefined;
  let written: LoadedGpt | undefined;
  try {
    result = await applyPlan(plan, writableDisk(writer), {
      journalPath,
      reopen: () => openDisk(target, output === undefined ? parent : {}),
      verify: async (fresh: BlockSource) => {
        written = await loadGpt(fresh, { ...load, sectorSize: plan.source.sectorSize });
        return [written.primary, written.backup].filter((c) => !c.valid).map((c) => `the ${c.which} GPT does not validate after the write`);
      },
    });
    // A device's kernel view is refreshed only when everything verified.
    if (!result.problems.length && writer.rereadPartitionTable && written) reread = await tellTheOs(writer, written);
  } finally {
    await writer.close();
  }
  if (reread && !flags.json) process.stderr.write(`Note: ${reread}.\n`);
  if (flags.json) out(JSON.stringify({ plan: planJson(plan, output), applied: true, ...(output !== undefined ? { output } : {}), undoFile: result.journalPath, verified: result.problems.length === 0, problems: result.problems }, null, 2));
  if (result.problems.length) {
    process.stderr.write(`gptdoctor: VERIFY FAILED after writing ${target}:\n${result.problems.map((p) => `  ${p}`).join('\n')}\nRestore the original bytes with: gptdoctor undo ${result.journalPath}\n`);
    return EXIT.CANNOT_RUN;
  }
  if (!flags.json) {
    const copied = output !== undefined ? `Copied ${shown} to ${output} (sparse raw) and repaired the copy; ${shown} was not changed.\n` : '';
    out(`${copied}Wrote ${result.written} region${result.written === 1 ? '' : 's'} and verified them by re-reading.\nUndo with: gptdoctor undo ${result.journalPath}`);
  }
  return afterwards ? afterwards(target) : EXIT.OK;
}

/**
 * Copies the disk out to a sparse raw image and plans again on the copy, which must come to the
 * same writes as the plan shown (it holds the same bytes); otherwise the copy is left unwritten.
 */
async function copyAndReplan(diskPath: string, output: string, parent: { parent?: string }, load: LoadOptions, makePlan: (g: LoadedGpt) => Promise<Plan>): Promise<Plan> {
  const source = await openDisk(diskPath, parent);
  try {
    await writeRawCopy(source, output, percentOnTerminal(`copying to ${output}`));
  } finally {
    await source.close();
  }
  const copy = await openDisk(output);
  try {
    return await makePlan(await loadGpt(copy, load)).catch((err: unknown) => {
      throw err instanceof PlanError ? new UsageError(`${err.message} (planning again on the copy ${output}, which was made but not written)`) : err;
    });
  } finally {
    await copy.close();
  }
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
