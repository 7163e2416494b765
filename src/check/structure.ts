import { formatCrc } from '../gpt/crc32.js';
import { arraySectors, MIN_ARRAY_BYTES, type GptHeader } from '../gpt/header.js';
import { MBR_GPT_PROTECTIVE } from '../gpt/mbr.js';
import { mbrDiskFinding, mbrFindings, mbrOutOfRangeFindings } from './mbr-findings.js';
import { partitionLabel } from './partition-words.js';
import type { GptEntry } from '../gpt/entries.js';
import { copyEntries, type GptCopy, type LoadedGpt } from '../read/load-gpt.js';
import { describeDifference, entryDifferences, type EntryDifference } from '../gpt/entry-diff.js';
import { entryProblems, neededBytes, partitionsPastBackupArea } from './entry-soundness.js';
import { overlapFindings } from './overlaps.js';
import { setFix, type FixCommand, type Finding } from './finding.js';

/** 1 MiB in bytes: the alignment Windows, parted and gdisk use by default. */
const MIB = 1024 * 1024;
/** Physical sector size assumed for images, whose media we cannot ask (512e and 4Kn drives). */
const ASSUMED_PHYSICAL = 4096;

/**
 * Structural rules: what gdisk's verify checks and more, on the bytes as they are on the disk.
 * Both copies are judged on their own; a damaged copy is never hidden behind the good one.
 */
export function structureFindings(g: LoadedGpt, fix: FixCommand): Finding[] {
  const repair = fix('repair');
  const findings: Finding[] = [];
  const add = (f: Finding): void => void findings.push(f);

  if (!g.primary.headerValid && !g.backup.headerValid) {
    // Read at the wrong sector size, a healthy GPT looks like no GPT: say that, and nothing else.
    const mismatch = sectorSizeFindings(g);
    if (mismatch.length) return mismatch;
    const mbrDisk = mbrDiskFinding(g);
    if (mbrDisk) return [mbrDisk, ...mbrOutOfRangeFindings(g)];
    add({ code: 'no-gpt', severity: 'error', message: noGptMessage(g) });
    return findings;
  }

  findings.push(...mbrFindings(g, repair));
  findings.push(...copyFindings(g.primary, g, repair));
  findings.push(...copyFindings(g.backup, g, repair));
  if (g.primary.valid && g.backup.valid) findings.push(...disagreements(g, repair));
  findings.push(...placementFindings(g, fix));
  findings.push(...sectorSizeFindings(g));

  const header = (g.table === 'backup' ? g.backup.header : g.primary.header) ?? g.backup.header;
  if (header && g.table !== 'none') {
    if (header.entrySize !== 128) {
      add({ code: 'entry-size-unusual', severity: 'warning', message: `entries are ${header.entrySize} bytes: valid per UEFI, but Linux (and gdisk) read only 128-byte entries and will not see this table` });
    }
    findings.push(...partitionFindings(g, header, g.partitions, fix));
  }
  withdrawRepairWhereItCannotRun(g, findings, repair);
  return findings;
}

/**
 * A fix line must succeed. `repair` refuses a table whose every intact copy has unsound entries,
 * and an image too short for its partitions: there, its fix lines are taken back and the
 * message says what stands in the way.
 */
function withdrawRepairWhereItCannotRun(g: LoadedGpt, findings: Finding[], repair: string): void {
  if (!findings.some((f) => f.fix === repair)) return;
  const blocker = repairBlocker(g);
  if (!blocker) return;
  for (const f of findings) {
    if (f.fix !== repair) continue;
    delete f.fix;
    if (f.code !== 'image-truncated') f.message += `; \`gptdoctor repair\` cannot run until ${blocker}`;
  }
}

/** Why `repair` would refuse this disk, or undefined when it can run (see plan-repair.ts). */
function repairBlocker(g: LoadedGpt): string | undefined {
  if (arrayCutByImageEnd(g.primary)) return `the image is whole again (${neededBytes(g)} bytes): it ends inside the primary entry array`;
  const sound = [g.primary, g.backup].filter((c) => c.valid && c.header && !entryProblems(copyEntries(g, c), c.header.firstUsableLba, c.header.lastUsableLba).length);
  if (!sound.length) return 'the partition problems are resolved: it never writes a table whose entries overlap or leave the usable range';
  const h = sound[0]!.header!;
  if (partitionsPastBackupArea(copyEntries(g, sound[0]!), g.lastLba, arraySectors(h.entryCount, h.entrySize, g.sectorSize)).length) {
    return `the image is long enough for its partitions (${neededBytes(g)} bytes)`;
  }
  return undefined;
}

function noGptMessage(g: LoadedGpt): string {
  const seen: string[] = [];
  if (g.mbr.kind === 'legacy') seen.push('LBA 0 holds an MBR partition table (an MBR disk, not GPT)');
  else if (g.mbr.kind === 'protective' || g.mbr.kind === 'hybrid') seen.push('LBA 0 holds a protective MBR, but both GPT headers are damaged (try `gptdoctor recover`)');
  const others = g.sectorSizeChoice.gptSeenAt.filter((s) => s !== g.sectorSize);
  if (others.length) seen.push(`a valid GPT exists for ${others.join('/')}-byte sectors (use --sector-size ${others[0]})`);
  const signature = [g.primary, g.backup].some((c) => c.header?.signature === 'EFI PART');
  if (signature && !seen.length) seen.push('"EFI PART" signatures are present but no header is valid (try `gptdoctor recover`)');
  return `no valid GPT header at LBA 1 or at the last LBA (${g.sectorSize}-byte sectors)${seen.length ? ': ' + seen.join('; ') : ''}`;
}

function copyFindings(copy: GptCopy, g: LoadedGpt, repair: string): Finding[] {
  const name = copy.which;
  const out: Finding[] = [];
  const fatal = copy.problems.filter((p) => p.fatal);
  if (!copy.headerValid) {
    const why = copy.header?.signature !== 'EFI PART' && copy.onDisk ? `no GPT header at LBA ${copy.lba}` : fatal.map((p) => p.message).join('; ');
    if (name === 'backup' && isTruncated(g)) return out; // image-truncated says it better
    out.push({ code: `${name}-header-bad`, severity: 'error', message: `${name} GPT header is invalid: ${why}`, fix: repair });
    return out;
  }
  // image-truncated tells of a cut array; an array in the usable range is an error of its own.
  const notes = copy.problems.filter((p) => !p.fatal && p.field !== 'entries-cut' && p.field !== 'array-in-usable-range');
  if (notes.length) out.push({ code: 'header-unusual', severity: 'warning', message: `${name} GPT header: ${notes.map((p) => p.message).join('; ')}` });
  for (const p of copy.problems.filter((p) => p.field === 'array-in-usable-range')) {
    // No fix line: repair never writes a table laid out so (table-model's modelProblems refuses it).
    out.push({ code: 'array-in-usable-range', severity: 'error', message: `${p.message}: a partition may be created over the table, and writing to it destroys the ${name} GPT. gptdoctor does not move entry arrays; with no partition in the way, gdisk's expert command j (or sgdisk --adjust-main-table) moves the primary array` });
  }
  const h = copy.header!;
  if (name === 'primary' || !g.primary.headerValid) {
    const bytes = h.entryCount * h.entrySize;
    if (bytes < MIN_ARRAY_BYTES) {
      out.push({ code: 'array-small', severity: 'warning', message: `the entry array holds ${h.entryCount} entries of ${h.entrySize} bytes (${bytes} bytes), less than the ${MIN_ARRAY_BYTES} bytes UEFI requires to be reserved (§5.3.2); some firmware and tools expect 128 entries` });
    }
  }
  if (!copy.entriesValid && !arrayCutByImageEnd(copy)) {
    const why = copy.computedEntriesCrc32 === undefined
      ? 'the array runs past the end of the disk'
      : `CRC32 is ${formatCrc(copy.computedEntriesCrc32)}, header says ${formatCrc(h.entriesCrc32)}`;
    out.push({ code: `${name}-entries-bad`, severity: 'error', message: `${name} partition entry array (LBA ${h.entriesLba}) is damaged: ${why}${againstTheOther(g, copy)}`, fix: repair });
  }
  return out;
}

/** Both copies valid: every field that must agree, and the arrays byte for byte. */
function disagreements(g: LoadedGpt, repair: string): Finding[] {
  const p = g.primary.header!;
  const b = g.backup.header!;
  const diffs: string[] = [];
  const same = <K extends keyof GptHeader>(key: K, label: string): void => {
    if (p[key] !== b[key]) diffs.push(`${label} ${String(p[key])} vs ${String(b[key])}`);
  };
  same('diskGuid', 'disk GUID');
  same('firstUsableLba', 'first usable LBA');
  same('lastUsableLba', 'last usable LBA');
  same('entryCount', 'entry count');
  same('entrySize', 'entry size');
  if (p.alternateLba !== g.backup.lba) diffs.push(`primary's alternate LBA is ${p.alternateLba} but the backup is at ${g.backup.lba}`);
  if (b.alternateLba !== 1) diffs.push(`backup's alternate LBA is ${b.alternateLba}, not 1`);
  if (p.entryCount === b.entryCount && p.entrySize === b.entrySize && p.entriesCrc32 !== b.entriesCrc32) diffs.push(arrayDifference(g));
  if (!diffs.length) return [];
  return [{ code: 'headers-disagree', severity: 'error', message: `primary and backup GPT disagree: ${diffs.join('; ')}`, fix: repair }];
}

function arrayCutByImageEnd(copy: GptCopy): boolean {
  return copy.problems.some((p) => p.field === 'entries-cut');
}

/** How many entry differences a message lists before it counts the rest. */
const LISTED_DIFFERENCES = 8;

/** What a damaged array, read as it is, holds unlike the other copy's valid one: evidence of what the damage changed. */
function againstTheOther(g: LoadedGpt, copy: GptCopy): string {
  const other = copy === g.primary ? g.backup : g.primary;
  if (!other.valid || !copy.array || copy.computedEntriesCrc32 === undefined) return '';
  const diffs = entryDifferences(copyEntries(g, other), copyEntries(g, copy));
  return diffs.length ? `. Read as it is, it differs from the ${other.which}'s entries (${other.which} → ${copy.which}): ${listDifferences(diffs)}` : `. Read as it is, its used entries equal the ${other.which}'s: the damage is in unused slots or reserved bytes`;
}

function listDifferences(diffs: readonly EntryDifference[]): string {
  const listed = diffs.slice(0, LISTED_DIFFERENCES).map(describeDifference).join('; ');
  return diffs.length > LISTED_DIFFERENCES ? `${listed}; and ${diffs.length - LISTED_DIFFERENCES} more` : listed;
}

/** "the two entry arrays differ: partition 2: last LBA 1000 → 996; …", field by field, primary → backup. */
function arrayDifference(g: LoadedGpt): string {
  const diffs = entryDifferences(copyEntries(g, g.primary), copyEntries(g, g.backup));
  if (!diffs.length) return 'the two entry arrays differ in bytes outside the used entries (unused slots or reserved bytes)';
  return `the two entry arrays differ (primary → backup): ${listDifferences(diffs)}`;
}

function isTruncated(g: LoadedGpt): boolean {
  const h = g.primary.headerValid ? g.primary.header : undefined;
  return h !== undefined && (h.alternateLba > g.lastLba || h.lastUsableLba > g.lastLba);
}

function placementFindings(g: LoadedGpt, fix: FixCommand): Finding[] {
  const out: Finding[] = [];
  const repair = fix('repair');
  if (isTruncated(g)) {
    const h = g.primary.header!;
    const cut = `the disk has ${g.totalSectors} sectors (${g.totalSectors * g.sectorSize} bytes) but the GPT expects at least ${Math.max(h.alternateLba, h.lastUsableLba) + 1}: the image was cut short and the backup GPT is gone`;
    const blocked = partitionsPastBackupArea(g.partitions, g.lastLba, arraySectors(h.entryCount, h.entrySize, g.sectorSize));
    if (arrayCutByImageEnd(g.primary)) {
      // Not even the primary array is whole: no entry can be verified, and nothing can rebuild the table.
      const bytes = neededBytes(g);
      const arrayEnd = h.entriesLba + arraySectors(h.entryCount, h.entrySize, g.sectorSize) - 1;
      out.push({
        code: 'image-truncated',
        severity: 'error',
        message: `${cut}, and it ends inside the primary entry array (LBA ${h.entriesLba}..${arrayEnd}), so no partition entry can be verified. The header itself is intact. Extend the image to ${bytes} bytes from the source if you still have it; \`gptdoctor recover\` can look for the entries that remain`,
      });
    } else if (blocked.length) {
      const bytes = neededBytes(g);
      out.push({
        code: 'image-truncated',
        severity: 'error',
        message: `${cut}, and partition${blocked.length > 1 ? 's' : ''} ${blocked.map((p) => p.index).join(', ')} reach${blocked.length > 1 ? '' : 'es'} into the space the backup needs. Extend the image to ${bytes} bytes (\`truncate -s ${bytes} ${fix.disk}\`; copy the missing end from the source if you still have it), then run \`${repair}\``,
      });
    } else {
      out.push({ code: 'image-truncated', severity: 'error', message: `${cut}; repair writes the backup at the new end`, fix: repair });
    }
  }
  if (g.backup.headerValid && g.backup.lba !== g.lastLba) {
    out.push({
      code: 'backup-not-at-end',
      severity: 'error',
      message: diskGrew(g)
        ? `backup GPT header is at LBA ${g.backup.lba}, not at the last LBA ${g.lastLba}: the disk grew by ${g.lastLba - g.backup.lba} sectors and the space after the old end is unusable until the backup moves`
        : `backup GPT header is at LBA ${g.backup.lba}, ${g.lastLba - g.backup.lba} sectors before the last LBA ${g.lastLba}: the space after it is unusable until the backup moves to the end`,
      fix: repair,
    });
  }
  return out;
}

/**
 * Whether the numbers show a grown disk rather than a backup put early on purpose or by a bug:
 * the table is laid out for a disk that ended at the backup (array just before it, usable range
 * just before that), and the protective MBR, where it records a size, records that old size.
 */
function diskGrew(g: LoadedGpt): boolean {
  const b = g.backup.header!;
  const laidOutForOldEnd = b.entriesLba + arraySectors(b.entryCount, b.entrySize, g.sectorSize) === g.backup.lba && b.lastUsableLba < b.entriesLba;
  const ee = g.mbr.records.find((r) => r.osType === MBR_GPT_PROTECTIVE);
  const mbrSaysOld = !ee || ee.sizeLba === 0xffffffff || ee.sizeLba === g.backup.lba;
  return laidOutForOldEnd && mbrSaysOld;
}

function sectorSizeFindings(g: LoadedGpt): Finding[] {
  const { reason, gptSeenAt } = g.sectorSizeChoice;
  if (reason === 'detected' || reason === 'default' || gptSeenAt.includes(g.sectorSize)) return [];
  const other = gptSeenAt[0];
  if (other === undefined) return [];
  const isDevice = g.source.format === 'device';
  const who = reason === 'override' ? 'sector size given by --sector-size' : isDevice ? 'device sector size' : `sector size the ${g.source.format.toUpperCase()} container declares`;
  const instead = reason === 'override'
    ? `run without --sector-size (or with --sector-size ${other})`
    : isDevice
      ? `if this is an image attached as a loop device, attach it again with losetup --sector-size ${other}; gptdoctor reads it with --sector-size ${other}`
      : `gptdoctor reads it with --sector-size ${other}`;
  return [{
    code: 'sector-size-mismatch',
    severity: 'error',
    message: `the ${who} is ${g.sectorSize} bytes, but a valid GPT was written for ${other}-byte sectors: the table is not damaged, but tools using ${g.sectorSize}-byte sectors will not find it. ${instead[0]!.toUpperCase()}${instead.slice(1)}`,
  }];
}

function partitionFindings(g: LoadedGpt, h: GptHeader, parts: GptEntry[], fix: FixCommand): Finding[] {
  const out: Finding[] = [];
  const ss = g.sectorSize;
  const primaryArrayEnd = g.primary.headerValid
    ? g.primary.header!.entriesLba + arraySectors(g.primary.header!.entryCount, g.primary.header!.entrySize, ss) - 1
    : 1 + arraySectors(h.entryCount, h.entrySize, ss);
  // The backup's area is where a valid header says it is; on a clipped or cut-short image, where
  // the primary's AlternateLBA and LastUsableLBA put it, never merely the last sectors of the file.
  const primaryHeader = g.primary.headerValid ? g.primary.header! : undefined;
  const cutShort = primaryHeader !== undefined && !g.backup.headerValid && primaryHeader.alternateLba > g.lastLba && primaryHeader.alternateLba > primaryHeader.lastUsableLba;
  const backupArrayStart = g.backup.headerValid ? g.backup.header!.entriesLba : cutShort ? primaryHeader.lastUsableLba + 1 : g.lastLba - arraySectors(h.entryCount, h.entrySize, ss);
  const backupEnd = g.backup.headerValid ? g.backup.lba : cutShort ? primaryHeader.alternateLba : g.lastLba;

  const inTableArea = (e: GptEntry, where: string): Finding => ({ code: 'partition-in-table-area', severity: 'error', partition: e.index, message: `${partitionLabel(e)} (LBA ${e.firstLba}..${e.lastLba}) overlaps ${where}: writing to it destroys the table` });
  for (const e of parts) {
    if (e.firstLba > e.lastLba) {
      out.push({ code: 'partition-out-of-range', severity: 'error', partition: e.index, message: `${partitionLabel(e)} ends (LBA ${e.lastLba}) before it begins (LBA ${e.firstLba})` });
      continue;
    }
    // Each rule on its own: a partition over the backup table that also runs off the disk gets both.
    // The messages are built only for the partitions that get them: this loop runs for every entry.
    if (e.firstLba <= primaryArrayEnd) out.push(inTableArea(e, `the protective MBR / primary GPT (LBA 0..${primaryArrayEnd})`));
    if (e.lastLba >= backupArrayStart && e.firstLba <= backupEnd) out.push(inTableArea(e, `the backup GPT (LBA ${backupArrayStart}..${backupEnd})`));
    if (e.lastLba > g.lastLba) {
      const where = e.firstLba > g.lastLba ? 'lies wholly outside the image' : 'runs past the end of the image';
      const why = cutShort ? ': the image is clipped or cut short, so its contents are not judged' : '';
      out.push({ code: 'partition-out-of-range', severity: 'error', partition: e.index, message: `${partitionLabel(e)} (LBA ${e.firstLba}..${e.lastLba}) ${where} (last LBA ${g.lastLba})${why}` });
    } else if (e.firstLba < h.firstUsableLba || e.lastLba > h.lastUsableLba) {
      out.push({ code: 'partition-out-of-range', severity: 'error', partition: e.index, message: `${partitionLabel(e)} (LBA ${e.firstLba}..${e.lastLba}) lies outside the usable range ${h.firstUsableLba}..${h.lastUsableLba}` });
    }
  }
  for (const f of overlapFindings(parts)) out.push(f);
  out.push(...duplicateGuids(parts, fix));
  out.push(...alignment(parts, ss, h.lastUsableLba));
  return out;
}


/**
 * Partitions sharing a unique GUID. Buckets by a hash of the GUID's raw bytes (cheap integers)
 * and compares text only within a bucket, so 32,768 entries cost a few milliseconds.
 */
function duplicateGuids(parts: readonly GptEntry[], fix: FixCommand): Finding[] {
  // A bucket is one entry until a second shares its hash: no array for each of 32,768 entries.
  const buckets = new Map<number, GptEntry | GptEntry[]>();
  for (const e of parts) {
    const key = guidHash(e.array, e.offset);
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, e);
    else if (Array.isArray(bucket)) bucket.push(e);
    else buckets.set(key, [bucket, e]);
  }
  const out: Finding[] = [];
  for (const bucket of buckets.values()) {
    if (!Array.isArray(bucket)) continue;
    const byGuid = new Map<string, number[]>();
    for (const e of bucket) byGuid.set(e.uniqueGuid, [...(byGuid.get(e.uniqueGuid) ?? []), e.index]);
    for (const [guid, indexes] of byGuid) {
      if (indexes.length < 2) continue;
      out.push({
        code: 'partition-guid-duplicate',
        severity: 'error',
        partition: indexes[1],
        message: `partitions ${indexes.join(', ')} share the unique GUID ${guid}: Windows and Linux (by-partuuid) will confuse them. The fix gives partition ${indexes[1]} a new GUID; firmware boot entries, BCD entries and PARTUUID= references that name it must then be updated (efibootmgr, bcdboot)`,
        ...setFix(fix, indexes[1]!, { guid: 'random' }),
      });
    }
  }
  return out.sort((a, b) => (a.partition ?? 0) - (b.partition ?? 0));
}

/** A 32-bit hash of an entry's unique-GUID bytes (entry offset 16..31), read where the entry lies. */
function guidHash(array: Uint8Array, entryOffset: number): number {
  let h = 0;
  for (let i = entryOffset + 16; i < entryOffset + 32; i += 4) h = Math.imul(h ^ (array[i]! | (array[i + 1]! << 8) | (array[i + 2]! << 16) | (array[i + 3]! << 24)), 0x9e3779b1);
  return h;
}

function alignment(parts: readonly GptEntry[], ss: number, lastUsableLba: number): Finding[] {
  const out: Finding[] = [];
  const mib = Math.max(1, MIB / ss);
  const physical = Math.max(1, ASSUMED_PHYSICAL / ss);
  for (const e of parts) {
    if (e.firstLba % physical !== 0) {
      out.push({ code: 'partition-misaligned', severity: 'warning', partition: e.index, message: `partition ${e.index} starts at LBA ${e.firstLba}, not on a ${ASSUMED_PHYSICAL}-byte boundary: every write on a 4K-sector drive costs a read-modify-write` });
    } else if (e.firstLba % mib !== 0) {
      out.push({ code: 'partition-misaligned', severity: 'info', partition: e.index, message: `partition ${e.index} starts at LBA ${e.firstLba}, not on a 1 MiB boundary` });
    } else if ((e.lastLba + 1) % mib !== 0 && e.lastLba !== lastUsableLba) {
      // A last partition that runs to the last usable LBA is what sgdisk and sfdisk make by default.
      out.push({ code: 'partition-misaligned', severity: 'info', partition: e.index, message: `partition ${e.index} ends at LBA ${e.lastLba}, not just before a 1 MiB boundary (some disk-encryption tools expect whole MiB)` });
    }
  }
  return out;
}
