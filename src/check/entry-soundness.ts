import type { GptEntry } from '../gpt/entries.js';
import { arraySectors } from '../gpt/header.js';
import type { LoadedGpt } from '../read/load-gpt.js';

/** At most this many problems are spelled out; the rest are counted. */
const LISTED = 4;

/**
 * Why a table's used entries cannot stand as they are, judged against the usable range its
 * header gives: an entry that ends before it begins, one outside FirstUsableLBA..LastUsableLBA
 * (which keeps it out of both table areas too), and entries that overlap. Pure; empty when sound.
 * `repair` picks its source copy by this, and no plan writes a table that fails it.
 */
export function entryProblems(entries: readonly GptEntry[], firstUsableLba: number, lastUsableLba: number): string[] {
  const problems: string[] = [];
  let more = 0;
  const add = (text: string): void => void (problems.length < LISTED ? problems.push(text) : more++);
  for (const e of entries) {
    if (e.firstLba > e.lastLba) add(`partition ${e.index} ends (LBA ${e.lastLba}) before it begins (LBA ${e.firstLba})`);
    else if (e.firstLba < firstUsableLba || e.lastLba > lastUsableLba) add(`partition ${e.index} (LBA ${e.firstLba}..${e.lastLba}) lies outside the usable range ${firstUsableLba}..${lastUsableLba}`);
  }
  const sorted = entries.filter((e) => e.firstLba <= e.lastLba).sort((a, b) => a.firstLba - b.firstLba);
  let reach: GptEntry | undefined;
  for (const e of sorted) {
    if (reach && e.firstLba <= reach.lastLba) add(`partitions ${Math.min(reach.index, e.index)} and ${Math.max(reach.index, e.index)} overlap`);
    if (!reach || e.lastLba > reach.lastLba) reach = e;
  }
  if (more) problems.push(`${more} more`);
  return problems;
}

/**
 * The partitions that reach into the sectors a backup GPT of `arraySectors` array sectors needs
 * at the end of a disk whose last LBA is `lastLba`: on a truncated image, what stops repair.
 */
export function partitionsPastBackupArea(entries: readonly GptEntry[], lastLba: number, arraySectors: number): GptEntry[] {
  return entries.filter((p) => p.lastLba > lastLba - arraySectors - 1);
}

/**
 * The size a cut-short image must have again: where its header put the backup, and at least room
 * for its partitions and the backup after them. check's message and repair's refusal give this one.
 */
export function neededBytes(g: LoadedGpt): number {
  const h = (g.primary.headerValid ? g.primary.header : g.backup.header)!;
  const sectors = arraySectors(h.entryCount, h.entrySize, g.sectorSize);
  const lastPartition = Math.max(0, ...g.partitions.map((p) => p.lastLba));
  const lastLba = Math.max(g.primary.headerValid ? h.alternateLba : 0, h.lastUsableLba + sectors + 1, lastPartition + sectors + 1);
  return (lastLba + 1) * g.sectorSize;
}
