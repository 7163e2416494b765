import { sameBytes } from '../bytes.js';
import { randomUUID } from 'node:crypto';
import { sha256Hex as sha256 } from '../sha256.js';
import type { BlockSource } from '../disk/block-source.js';
import { decodeUsedEntries, encodeEntry } from '../gpt/entries.js';
import { filesystemAt, type FoundFilesystem } from './fs-outline.js';
import { sliceReader } from '../fs/byte-reader.js';
import { openFat } from '../fs/fat.js';
import { TYPE_GUIDS, typeByGuid } from '../gpt/partition-types.js';
import { arraySectors } from '../gpt/header.js';
import type { Candidate } from '../plan/candidate.js';
import { huntArrays, huntHeaders, type FoundHeader, type HuntProgress } from './hunt.js';

export type { Candidate };

/** Every sector size a GPT can be written for: the hunt tries them all, whatever --sector-size says. */
export const HUNT_SECTOR_SIZES = [512, 1024, 2048, 4096] as const;


/**
 * Hunts the whole disk (headers at every sector for 512 and 4096 bytes, then header-less arrays
 * where arrays belong and where the protective MBR says the old end was) and ranks what it found.
 */
export async function findCandidates(
  source: BlockSource,
  options: { sectorSizes?: number[]; pmbrEnd?: number; progress?: HuntProgress; /** The sector size a table outlined from filesystems is written for (--sector-size). */ outlineSectorSize?: number } = {},
): Promise<Candidate[]> {
  const sizes = options.sectorSizes ?? [...HUNT_SECTOR_SIZES];
  const filesystems: FoundFilesystem[] = [];
  const headers = await huntHeaders(source, sizes, options.progress, (bytes, offset) => {
    const fs = filesystemAt(bytes, offset);
    if (fs) filesystems.push(fs);
  });
  filesystems.sort((a, b) => a.offset - b.offset); // the pass probes chunks as their reads finish
  const candidates = groupHeaders(source, headers);
  const extra: Array<[number, number]> = options.pmbrEnd ? [[512, options.pmbrEnd - 32]] : [];
  for (const found of await huntArrays(source, sizes, extra)) {
    if (candidates.some((c) => c.sectorSize === found.sectorSize && sameBytes(c.array.subarray(0, found.array.length), found.array))) continue;
    const total = Math.floor(source.size / found.sectorSize);
    const sectors = arraySectors(128, 128, found.sectorSize);
    candidates.push({
      rank: 0,
      score: 1 + (found.lba === 2 ? 1 : 0),
      sectorSize: found.sectorSize,
      basis: 'array',
      firstUsableLba: 2 + sectors,
      lastUsableLba: total - 2 - sectors,
      entryCount: 128,
      entrySize: 128,
      array: found.array,
      partitions: found.entries,
      headers: [],
      evidence: [`an entry array with ${found.entries.length} plausible partitions at LBA ${found.lba} (${found.sectorSize}-byte sectors), but no header vouches for it: a new disk GUID will be made`],
    });
  }
  if (filesystems.length && !candidates.some((c) => c.basis === 'headers')) {
    const outline = await outlineCandidate(source, filesystems, options.outlineSectorSize);
    if (outline.partitions.length) candidates.push(outline); // an empty table restores nothing
  }
  candidates.sort((a, b) => b.score - a.score);
  candidates.forEach((c, i) => (c.rank = i + 1));
  return candidates;
}

function groupHeaders(source: BlockSource, headers: readonly FoundHeader[]): Candidate[] {
  const groups = new Map<string, FoundHeader[]>();
  for (const f of headers.filter((h) => h.arrayOk)) {
    const h = f.header;
    const key = `${f.sectorSize}:${h.diskGuid}:${h.entriesCrc32}:${h.entryCount}:${h.entrySize}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const out: Candidate[] = [];
  for (const members of groups.values()) {
    const first = members[0]!;
    const ss = first.sectorSize;
    const lastLba = Math.floor(source.size / ss) - 1;
    const evidence: string[] = [];
    const roles = members.map((m) => ({
      lba: m.lba,
      arrayOk: m.arrayOk,
      offset: m.lba * ss,
      sha256: sha256(m.header.raw),
      entriesOffset: m.header.entriesLba * ss,
      entriesSha256: sha256(m.array!.subarray(0, m.header.entryCount * m.header.entrySize)),
      role: m.lba === 1 ? ('primary' as const) : m.lba === lastLba ? ('backup' as const) : m.header.alternateLba === 1 ? ('orphaned backup' as const) : ('stale copy' as const),
    }));
    const canonical = roles.filter((r) => r.role === 'primary' || r.role === 'backup').length;
    for (const r of roles) {
      if (r.role === 'primary') evidence.push('a valid primary header at LBA 1 with a matching array');
      else if (r.role === 'backup') evidence.push(`a valid backup header at the last LBA ${r.lba} with a matching array`);
      else if (r.role === 'orphaned backup' && canonical) evidence.push(`a stale backup header at LBA ${r.lba}, left behind when the backup was moved`);
      else if (r.role === 'orphaned backup') evidence.push(`an orphaned backup header at LBA ${r.lba} (the old end of a grown disk?) with a matching array`);
      else evidence.push(`another valid copy at LBA ${r.lba}`);
    }
    // The header to take fields from: the primary, else the newest-looking backup.
    const best = members.find((m) => m.lba === 1) ?? members.find((m) => m.lba === lastLba) ?? first;
    const h = best.header;
    const partitions = decodeUsedEntries(best.array!, h.entrySize, h.entryCount);
    const inside = partitions.every((p) => p.lastLba <= lastLba);
    if (!inside) evidence.push('but some partitions reach past the end of this disk');
    const score = 4 * Math.min(members.length, 2) + 2 * canonical + (source.declaredSectorSize === undefined || source.declaredSectorSize === ss ? 3 : 0) + (inside ? 1 : -6);
    out.push({
      rank: 0,
      score,
      sectorSize: ss,
      basis: 'headers',
      diskGuid: h.diskGuid,
      firstUsableLba: h.firstUsableLba,
      lastUsableLba: h.lastUsableLba,
      entryCount: h.entryCount,
      entrySize: h.entrySize,
      array: best.array!.slice(0, h.entryCount * h.entrySize),
      partitions,
      headers: roles,
      evidence,
    });
  }
  return out;
}

/**
 * A table drawn from the filesystems themselves: last resort, so it ranks below any table found.
 * A FAT volume holding \EFI\…\*.efi boot files becomes the EFI System Partition, as firmware
 * and Windows Setup need it typed (the other types are guesses from the filesystem).
 */
async function outlineCandidate(source: BlockSource, filesystems: readonly FoundFilesystem[], sectorSize?: number): Promise<Candidate> {
  const ss = sectorSize ?? source.declaredSectorSize ?? 512;
  const total = Math.floor(source.size / ss);
  const sectors = arraySectors(128, 128, ss);
  const array = new Uint8Array(128 * 128);
  const lastUsable = total - 2 - sectors;
  // Keep filesystems that fit the disk and do not start inside an earlier one (backup boot
  // sectors); say which were left out and why, so no partition is dropped in silence.
  const inside: FoundFilesystem[] = [];
  const leftOut: string[] = [];
  for (const f of [...filesystems].sort((a, b) => a.offset - b.offset)) {
    const previous = inside.at(-1);
    if (previous && f.offset < previous.offset + previous.length) continue; // a structure inside the previous filesystem
    const extent = `${f.kind} at byte ${f.offset} (${f.length} bytes)`;
    if (f.length <= 0 || f.offset % ss !== 0 || f.length % ss !== 0) leftOut.push(`${extent}: its size is not a whole number of ${ss}-byte sectors`);
    else if ((f.offset + f.length) / ss - 1 > lastUsable) leftOut.push(`${extent} ends at LBA ${(f.offset + f.length) / ss - 1}, inside the last ${sectors + 1} sectors the backup GPT needs (last usable LBA ${lastUsable})`);
    else inside.push(f);
  }
  inside.splice(128);
  const evidence = [`${inside.length} filesystem${inside.length === 1 ? '' : 's'} (${inside.map((f) => f.kind).join(', ')}) at 1 MiB boundaries, sized by their own headers: no header or entry array survived, types are guessed from the filesystems and partition GUIDs are new`];
  for (const l of leftOut) evidence.push(`left out: ${l}`);
  const guessedTypes: NonNullable<Candidate['guessedTypes']> = [];
  for (const [i, f] of inside.entries()) {
    const bootFiles = f.kind === 'fat' ? await efiBootFiles(source, f) : [];
    if (bootFiles.length) evidence.push(`partition ${i + 1} is a FAT volume with ${bootFiles.join(', ')}: typed EFI System Partition`);
    const typeGuid = bootFiles.length ? TYPE_GUIDS.ESP : f.typeGuid;
    guessedTypes.push({ partition: i + 1, type: typeByGuid(typeGuid)?.name ?? typeGuid, from: bootFiles.length ? `a FAT volume holding ${bootFiles[0]}` : `its ${f.kind} filesystem` });
    const entry = encodeEntry(
      {
        typeGuid,
        uniqueGuid: randomUUID().toUpperCase(),
        firstLba: f.offset / ss,
        lastLba: (f.offset + f.length) / ss - 1,
        attributes: 0n,
        name: bootFiles.length ? 'EFI system partition' : '',
      },
      new Uint8Array(128),
    );
    array.set(entry, i * 128);
  }
  return {
    rank: 0,
    score: 0,
    sectorSize: ss,
    basis: 'filesystems',
    firstUsableLba: 2 + sectors,
    lastUsableLba: lastUsable,
    entryCount: 128,
    entrySize: 128,
    array,
    partitions: decodeUsedEntries(array, 128, 128),
    headers: [],
    evidence,
    guessedTypes,
  };
}

/** The \EFI boot files of an outlined FAT volume; none when it cannot be read as FAT. */
async function efiBootFiles(source: BlockSource, f: FoundFilesystem): Promise<string[]> {
  try {
    return await (await openFat(sliceReader(source, f.offset, f.length))).findEfiBootFiles();
  } catch {
    return [];
  }
}
