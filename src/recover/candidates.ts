import { sameBytes } from '../bytes.js';
import { createHash, randomUUID } from 'node:crypto';
import type { BlockSource } from '../disk/block-source.js';
import { decodeUsedEntries, encodeEntry, type GptEntry } from '../gpt/entries.js';
import { filesystemsInChunk, type FoundFilesystem } from './fs-outline.js';
import { sliceReader } from '../fs/byte-reader.js';
import { openFat } from '../fs/fat.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import { GPT_REVISION_1_0, arraySectors } from '../gpt/header.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { TableModel } from '../repair/table-model.js';
import { CHUNK_SIZE, huntArrays, huntHeaders, type FoundHeader, type HuntProgress } from './hunt.js';

/** One table gptdoctor could restore, with the evidence for it. */
export interface Candidate {
  rank: number;
  score: number;
  sectorSize: number;
  /** 'headers': a CRC-valid header vouches for the array; 'array': an array alone; 'filesystems': outlined from filesystem headers. */
  basis: 'headers' | 'array' | 'filesystems';
  diskGuid?: string;
  firstUsableLba: number;
  lastUsableLba: number;
  entryCount: number;
  entrySize: number;
  array: Uint8Array;
  partitions: GptEntry[];
  headers: Array<{
    lba: number;
    role: 'primary' | 'backup' | 'orphaned backup' | 'stale copy';
    arrayOk: boolean;
    /** Evidence: where the header and its array sit, and their SHA-256. */
    offset: number;
    sha256: string;
    entriesOffset: number;
    entriesSha256: string;
  }>;
  evidence: string[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Hunts the whole disk (headers at every sector for 512 and 4096 bytes, then header-less arrays
 * where arrays belong and where the protective MBR says the old end was) and ranks what it found.
 */
export async function findCandidates(source: BlockSource, options: { sectorSizes?: number[]; pmbrEnd?: number; progress?: HuntProgress } = {}): Promise<Candidate[]> {
  const sizes = options.sectorSizes ?? [512, 4096];
  const filesystems: FoundFilesystem[] = [];
  const headers = await huntHeaders(source, sizes, options.progress, (chunk, offset) => {
    for (const fs of filesystemsInChunk(chunk, offset)) if (offset <= fs.offset && fs.offset < offset + CHUNK_SIZE) filesystems.push(fs);
  });
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
  if (filesystems.length && !candidates.some((c) => c.basis === 'headers')) candidates.push(await outlineCandidate(source, filesystems));
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
async function outlineCandidate(source: BlockSource, filesystems: readonly FoundFilesystem[]): Promise<Candidate> {
  const ss = source.declaredSectorSize ?? 512;
  const total = Math.floor(source.size / ss);
  const sectors = arraySectors(128, 128, ss);
  const array = new Uint8Array(128 * 128);
  // Keep filesystems that fit the disk and do not start inside an earlier one (backup boot sectors).
  const inside: FoundFilesystem[] = [];
  for (const f of [...filesystems].sort((a, b) => a.offset - b.offset)) {
    const previous = inside.at(-1);
    if (f.length > 0 && (f.offset + f.length) / ss <= total - 1 - sectors && (!previous || f.offset >= previous.offset + previous.length)) inside.push(f);
  }
  inside.splice(128);
  const evidence = [`${inside.length} filesystem${inside.length === 1 ? '' : 's'} (${inside.map((f) => f.kind).join(', ')}) at 1 MiB boundaries, sized by their own headers: types are guessed from the filesystem and partition GUIDs are new`];
  for (const [i, f] of inside.entries()) {
    const bootFiles = f.kind === 'fat' ? await efiBootFiles(source, f) : [];
    if (bootFiles.length) evidence.push(`partition ${i + 1} is a FAT volume with ${bootFiles.join(', ')}: typed EFI System Partition`);
    const entry = encodeEntry(
      {
        typeGuid: bootFiles.length ? TYPE_GUIDS.ESP : f.typeGuid,
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
    lastUsableLba: total - 2 - sectors,
    entryCount: 128,
    entrySize: 128,
    array,
    partitions: decodeUsedEntries(array, 128, 128),
    headers: [],
    evidence,
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

/**
 * The table a candidate becomes on this disk: both copies at their standard places (primary
 * array at LBA 2, backup at the last LBA), the usable range kept unless the disk is now too small.
 */
export function modelFromCandidate(g: LoadedGpt, c: Candidate): TableModel {
  const sectors = arraySectors(c.entryCount, c.entrySize, c.sectorSize);
  const backupEntriesLba = g.lastLba - sectors;
  return {
    sectorSize: c.sectorSize,
    diskGuid: c.diskGuid ?? randomUUID().toUpperCase(),
    firstUsableLba: Math.max(c.firstUsableLba, 2 + sectors),
    lastUsableLba: Math.min(c.lastUsableLba, backupEntriesLba - 1),
    entryCount: c.entryCount,
    entrySize: c.entrySize,
    array: c.array.slice(),
    primaryLba: 1,
    primaryEntriesLba: 2,
    backupLba: g.lastLba,
    backupEntriesLba,
    revision: GPT_REVISION_1_0,
    headerSize: 92,
  };
}

/** How a candidate differs from the partitions the disk shows now, partition by partition. */
export function differencesFromDisk(current: LoadedGpt, c: Candidate): string[] {
  if (current.table === 'none') return ['the disk has no valid partition table now'];
  const out: string[] = [];
  if (current.sectorSize !== c.sectorSize) out.push(`the disk is read with ${current.sectorSize}-byte sectors, the candidate uses ${c.sectorSize}`);
  const mine = new Map(c.partitions.map((p) => [p.index, p]));
  const theirs = new Map(current.partitions.map((p) => [p.index, p]));
  for (const index of [...new Set([...mine.keys(), ...theirs.keys()])].sort((a, b) => a - b)) {
    const a = theirs.get(index);
    const b = mine.get(index);
    if (!a) out.push(`partition ${index} (LBA ${b!.firstLba}..${b!.lastLba}) is not on the disk now`);
    else if (!b) out.push(`partition ${index} (LBA ${a.firstLba}..${a.lastLba}) is on the disk but not in the candidate`);
    else {
      const fields = (['typeGuid', 'uniqueGuid', 'firstLba', 'lastLba', 'attributes', 'name'] as const).filter((f) => a[f] !== b[f]);
      if (fields.length) out.push(`partition ${index}: ${fields.map((f) => `${f} ${String(a[f])} → ${String(b[f])}`).join(', ')}`);
    }
  }
  if (c.diskGuid && current.primary.header?.diskGuid !== c.diskGuid && current.backup.header?.diskGuid !== c.diskGuid) out.push(`disk GUID ${c.diskGuid} differs from the disk's`);
  return out;
}
