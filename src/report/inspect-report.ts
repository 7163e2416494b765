import type { BlockSource, SourceFormat } from '../disk/block-source.js';
import { attributeNames, formatAttributes } from '../gpt/attributes.js';
import { formatCrc } from '../gpt/crc32.js';
import { hex32 } from '../gpt/le.js';
import type { GptEntry } from '../gpt/entries.js';
import { formatRevision } from '../gpt/header.js';
import type { MbrKind } from '../gpt/mbr.js';
import { typeByGuid } from '../gpt/partition-types.js';
import { describeDifference, entryDifferences } from '../gpt/entry-diff.js';
import { copyEntries, type GptCopy, type LoadedGpt } from '../read/load-gpt.js';
import type { SectorSizeChoice } from '../read/sector-size.js';
import { sha256Hex } from '../sha256.js';
import { bcdReport, type BcdReport } from './bcd-report.js';
import { freeSpace, type FreeSpaceReport } from './free-space.js';
import { mbrDiskReport, type MbrDiskReport } from './mbr-report.js';
import { sniffPartitions, type PartitionFs } from '../read/partition-fs.js';
import { openVolume, volumeSpace, type VolumeOpening } from '../read/volumes.js';
import { VolumeUnreadable } from '../fs/unreadable.js';

/** The JSON contract of `inspect --json` (docs/ARCHITECTURE.md §5); the library returns the same object. */
export interface InspectReport {
  source: SourceReport;
  /** Every structure read, with its byte offset and SHA-256: evidence that can be re-verified. */
  structures: StructureReport[];
  mbr: MbrReport;
  primary: HeaderReport;
  backup: HeaderReport;
  table: 'primary' | 'backup' | 'none';
  partitions: PartitionReport[];
  /**
   * The entries of each copy that are not the table shown: a copy whose array CRC fails
   * (verified false; gdisk lists those too), or a valid copy whose entries differ from the
   * table's, with the differences field by field (table → this copy).
   */
  otherCopies: OtherCopyReport[];
  /** Unpartitioned space in the usable range of the table shown; absent when there is no table. */
  freeSpace?: FreeSpaceReport;
  /** The Windows boot configuration on the ESP, when a partition holds bootmgfw.efi (on an MBR disk: `mbrDisk.bcd`). */
  bcd?: BcdReport;
  /** For a disk partitioned with an MBR and no GPT: its MBR partitions (logical ones too) and BCD. */
  mbrDisk?: MbrDiskReport;
}

export interface OtherCopyReport {
  copy: 'primary' | 'backup';
  verified: boolean;
  partitions: PartitionReport[];
  differences: string[];
}

export interface StructureReport {
  name: 'protective MBR' | 'primary header' | 'primary entries' | 'backup header' | 'backup entries';
  offset: number;
  length: number;
  sha256: string;
}

export interface SourceReport {
  path: string;
  format: SourceFormat;
  size: number;
  sectorSize: number;
  /** How the sector size was chosen, and where else a valid GPT header was seen. */
  sectorSizeSource: SectorSizeChoice['reason'];
  gptSeenAtSectorSizes: number[];
  /** Container facts (VHD sizes), with which disk size the GPT's backup header was written for. */
  container?: Record<string, string | number>;
}

export interface MbrReport {
  kind: MbrKind;
  bootSignature: boolean;
  diskSignature: string;
  /** Non-empty records only, with their 0-based slot. */
  records: Array<{ slot: number; bootIndicator: string; osType: string; startChs: string; endChs: string; startLba: number; sizeLba: number }>;
}

export interface HeaderReport {
  lba: number;
  /** Header and entry array both valid. */
  valid: boolean;
  headerValid: boolean;
  entriesValid: boolean;
  problems: string[];
  signature?: string;
  revision?: string;
  headerSize?: number;
  headerCrc32?: string;
  computedHeaderCrc32?: string;
  myLba?: number;
  alternateLba?: number;
  firstUsableLba?: number;
  lastUsableLba?: number;
  diskGuid?: string;
  entriesLba?: number;
  entryCount?: number;
  entrySize?: number;
  entriesCrc32?: string;
  computedEntriesCrc32?: string;
}

export interface PartitionReport {
  index: number;
  type: string;
  typeName: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  size: number;
  attributes: string;
  attributeNames: string[];
  name: string;
  filesystem?: string;
  /** The volume label of a FAT or NTFS volume (boot sector or $Volume). */
  label?: string;
  /** Free bytes of a FAT or NTFS volume, counted from its FAT or $Bitmap (inspect: always exact). */
  freeBytes?: number;
  /** check: a lower bound, where counting stopped once the rule that needed it had enough. */
  freeBytesAtLeast?: number;
  /** Why a volume that looks like FAT or NTFS could not be read. */
  volumeError?: string;
}

/** What a report says of a partition's volume, when gptdoctor could read inside it. */
export interface VolumeFacts {
  label?: string;
  freeBytes?: number;
  /** False when freeBytes is a lower bound. */
  freeBytesExact?: boolean;
  volumeError?: string;
}

const hex = (n: number, digits: number): string => '0x' + n.toString(16).toUpperCase().padStart(digits, '0');

export function sourceReport(source: BlockSource, loaded: LoadedGpt): SourceReport {
  return {
    path: source.path,
    format: source.format,
    size: source.size,
    sectorSize: loaded.sectorSize,
    sectorSizeSource: loaded.sectorSizeChoice.reason,
    gptSeenAtSectorSizes: loaded.sectorSizeChoice.gptSeenAt,
    ...(source.containerInfo ? { container: { ...source.containerInfo, ...backupMatch(source, loaded) } } : {}),
  };
}

/** For VHDs: which of the two sizes a reader may use puts the backup GPT header on its last LBA. */
function backupMatch(source: BlockSource, g: LoadedGpt): Record<string, string> {
  const info = source.containerInfo!;
  const alternate = g.primary.headerValid ? g.primary.header!.alternateLba : undefined;
  if (typeof info.currentSize !== 'number' || typeof info.chsSize !== 'number' || alternate === undefined) return {};
  const last = (bytes: number): number => Math.floor(bytes / g.sectorSize) - 1;
  const matches = [alternate === last(info.currentSize) ? 'current size (Windows, Hyper-V, Azure)' : '', info.chsSize !== info.currentSize && alternate === last(info.chsSize) ? 'CHS size (Virtual PC, older qemu)' : ''].filter(Boolean);
  return { backupHeaderFits: matches.join(' and ') || 'neither size' };
}

export function mbrReport(loaded: LoadedGpt): MbrReport {
  const { mbr } = loaded;
  return {
    kind: mbr.kind,
    bootSignature: mbr.bootSignature,
    diskSignature: hex32(mbr.diskSignature),
    records: mbr.records
      .filter((r) => r.osType !== 0 || r.startLba !== 0 || r.sizeLba !== 0)
      .map((r) => ({
        slot: r.slot,
        bootIndicator: hex(r.bootIndicator, 2),
        osType: hex(r.osType, 2),
        startChs: r.startChs,
        endChs: r.endChs,
        startLba: r.startLba,
        sizeLba: r.sizeLba,
      })),
  };
}

export function headerReport(copy: GptCopy): HeaderReport {
  const base = {
    lba: copy.lba,
    valid: copy.valid,
    headerValid: copy.headerValid,
    entriesValid: copy.entriesValid,
    problems: [
      ...copy.problems.map((p) => p.message),
      ...(copy.headerValid && !copy.entriesValid ? [entriesProblem(copy)] : []),
    ],
  };
  const h = copy.header;
  if (!h) return base;
  return {
    ...base,
    signature: h.signature.replace(/[^\x20-\x7e]/g, '.'),
    revision: formatRevision(h.revision),
    headerSize: h.headerSize,
    headerCrc32: formatCrc(h.headerCrc32),
    computedHeaderCrc32: formatCrc(h.computedHeaderCrc32),
    myLba: h.myLba,
    alternateLba: h.alternateLba,
    firstUsableLba: h.firstUsableLba,
    lastUsableLba: h.lastUsableLba,
    diskGuid: h.diskGuid,
    entriesLba: h.entriesLba,
    entryCount: h.entryCount,
    entrySize: h.entrySize,
    entriesCrc32: formatCrc(h.entriesCrc32),
    ...(copy.computedEntriesCrc32 !== undefined ? { computedEntriesCrc32: formatCrc(copy.computedEntriesCrc32) } : {}),
  };
}

function entriesProblem(copy: GptCopy): string {
  if (copy.computedEntriesCrc32 === undefined) return 'the entry array could not be read in full (it runs past the end of the disk)';
  return `entry array CRC32 is ${formatCrc(copy.header!.entriesCrc32)} in the header but the array gives ${formatCrc(copy.computedEntriesCrc32)}`;
}

export function partitionReport(e: GptEntry, sectorSize: number, filesystem?: string, volume: VolumeFacts = {}): PartitionReport {
  // Built field by field rather than with conditional spreads: a 32,768-entry report builds one
  // per entry, and the spreads' temporary objects were most of its garbage.
  const report: PartitionReport = {
    index: e.index,
    type: e.typeGuid,
    typeName: typeByGuid(e.typeGuid)?.name ?? 'unknown',
    guid: e.uniqueGuid,
    firstLba: e.firstLba,
    lastLba: e.lastLba,
    size: e.lastLba >= e.firstLba ? (e.lastLba - e.firstLba + 1) * sectorSize : 0,
    attributes: formatAttributes(e.attributes),
    attributeNames: attributeNames(e.attributes),
    name: e.name,
  };
  if (filesystem !== undefined) report.filesystem = filesystem;
  if (volume.label !== undefined) report.label = volume.label;
  if (volume.freeBytes !== undefined) {
    if (volume.freeBytesExact === false) report.freeBytesAtLeast = volume.freeBytes;
    else report.freeBytes = volume.freeBytes;
  }
  if (volume.volumeError !== undefined) report.volumeError = volume.volumeError;
  return report;
}

/** Each FAT or NTFS volume, opened once for both the volume facts and the BCD. */
async function openVolumes(filesystems: ReadonlyMap<number, PartitionFs>): Promise<Map<number, VolumeOpening>> {
  const out = new Map<number, VolumeOpening>();
  for (const [index, fs] of filesystems) {
    const opened = await openVolume(fs.kind, fs.reader);
    if (opened) out.set(index, opened);
  }
  return out;
}

/** Counts each open volume's free space in full: inspect shows every figure exact. */
async function volumeFacts(opened: ReadonlyMap<number, VolumeOpening>): Promise<Map<number, VolumeFacts>> {
  const out = new Map<number, VolumeFacts>();
  for (const [index, volume] of opened) {
    if (volume.kind === 'unreadable') {
      out.set(index, { volumeError: volume.reason });
      continue;
    }
    try {
      const space = await volumeSpace(volume);
      out.set(index, { label: space.label, freeBytes: space.freeBytes, freeBytesExact: true });
    } catch (err) {
      if (!(err instanceof VolumeUnreadable)) throw err;
      out.set(index, { volumeError: err.reason });
    }
  }
  return out;
}

/** Offsets and SHA-256 of every structure read (what was read, even where it is damaged). */
export async function structureReports(g: LoadedGpt): Promise<StructureReport[]> {
  const ss = g.sectorSize;
  const item = (name: StructureReport['name'], offset: number, bytes: Uint8Array | undefined): StructureReport[] =>
    bytes && bytes.length ? [{ name, offset, length: bytes.length, sha256: sha256Hex(bytes) }] : [];
  return [
    ...item('protective MBR', 0, g.mbr.raw),
    ...item('primary header', g.primary.lba * ss, g.primary.header?.raw),
    ...item('primary entries', (g.primary.header?.entriesLba ?? 0) * ss, g.primary.array),
    ...item('backup header', g.backup.lba * ss, g.backup.header?.raw),
    ...item('backup entries', (g.backup.header?.entriesLba ?? 0) * ss, g.backup.array),
  ];
}

/** Builds the whole inspect report; sniffs each partition's filesystem with a few small reads. */
export async function inspectReport(loaded: LoadedGpt): Promise<InspectReport> {
  const filesystems = await sniffPartitions(loaded);
  const opened = await openVolumes(filesystems);
  const volumes = await volumeFacts(opened);
  const bcd = await bcdReport(loaded, opened);
  const mbrDisk = await mbrDiskReport(loaded);
  return {
    source: sourceReport(loaded.source, loaded),
    structures: await structureReports(loaded),
    mbr: mbrReport(loaded),
    primary: headerReport(loaded.primary),
    backup: headerReport(loaded.backup),
    table: loaded.table,
    partitions: loaded.partitions.map((e) => partitionReport(e, loaded.sectorSize, filesystems.get(e.index)?.kind, volumes.get(e.index))),
    otherCopies: otherCopies(loaded),
    ...freeSpaceOf(loaded),
    ...(bcd ? { bcd } : {}),
    ...(mbrDisk ? { mbrDisk } : {}),
  };
}

/** Copies whose entries can be read (their header's geometry is sound) but are not the table shown. */
function otherCopies(g: LoadedGpt): OtherCopyReport[] {
  const out: OtherCopyReport[] = [];
  for (const copy of [g.primary, g.backup]) {
    if (copy.which === g.table || !copy.array || !copy.header || copy.header.signature !== 'EFI PART') continue;
    const shown = g.table === 'primary' ? g.primary : g.backup;
    if (copy.valid && shown.valid && sameArrayBytes(copy, shown)) continue; // the usual case: decode nothing twice
    const entries = copyEntries(g, copy);
    const differences = g.table === 'none' ? [] : entryDifferences(g.partitions, entries).map(describeDifference);
    if (copy.valid && !differences.length) continue; // the same table: nothing more to show
    out.push({ copy: copy.which, verified: copy.valid, partitions: entries.map((e) => partitionReport(e, g.sectorSize)), differences });
  }
  return out;
}

function sameArrayBytes(a: GptCopy, b: GptCopy): boolean {
  return a.header!.entryCount === b.header!.entryCount && a.header!.entrySize === b.header!.entrySize && a.computedEntriesCrc32 === b.computedEntriesCrc32;
}

function freeSpaceOf(g: LoadedGpt): { freeSpace?: FreeSpaceReport } {
  const header = g.table === 'primary' ? g.primary.header : g.table === 'backup' ? g.backup.header : undefined;
  return header ? { freeSpace: freeSpace(g.partitions, header.firstUsableLba, header.lastUsableLba, g.sectorSize) } : {};
}
