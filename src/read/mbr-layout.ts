import { decodeMbr, EXTENDED_TYPES, type Mbr } from '../gpt/mbr.js';
import type { LoadedGpt } from './load-gpt.js';

/**
 * The partitions of an MBR disk: the four primary slots of LBA 0 and, inside an extended
 * partition, the logical partitions its chain of extended boot records (EBRs) lists. Numbered as
 * Linux and sfdisk number them: primaries 1–4 by slot, logical partitions from 5 in chain order.
 */
export interface MbrPartition {
  number: number;
  kind: 'primary' | 'extended' | 'logical';
  /** The MBR type byte (0x07 NTFS/exFAT, 0x0C FAT32 LBA, 0x27 Windows RE, 0x05/0x0F extended, …). */
  osType: number;
  /** Boot indicator 0x80: the partition BIOS boot code starts from. */
  active: boolean;
  /** Absolute LBA on the disk (logical partitions' EBR-relative starts already added). */
  startLba: number;
  sizeLba: number;
}

export interface MbrLayout {
  /** Primary and extended partitions by slot, then logical ones; empty slots left out. */
  partitions: MbrPartition[];
  /** What in the EBR chain could not be followed, one line each (the partitions before it are listed). */
  problems: string[];
}

/** More logical partitions than this is a loop or a hostile chain; Linux stops far earlier in practice. */
const MAX_LOGICAL = 128;

/** The partitions LBA 0 and the EBR chain describe. Reads one sector per logical partition. */
export async function readMbrLayout(g: LoadedGpt): Promise<MbrLayout> {
  const partitions: MbrPartition[] = [];
  const problems: string[] = [];
  for (const r of g.mbr.records) {
    if (r.osType === 0) continue;
    const kind = EXTENDED_TYPES.has(r.osType) ? 'extended' : 'primary';
    partitions.push({ number: r.slot + 1, kind, osType: r.osType, active: r.bootIndicator === 0x80, startLba: r.startLba, sizeLba: r.sizeLba });
  }
  const extended = partitions.filter((p) => p.kind === 'extended');
  if (extended.length > 1) problems.push(`${extended.length} extended partitions in LBA 0; only the first one's logical partitions are listed`);
  if (extended[0]) partitions.push(...(await logicalPartitions(g, extended[0], problems)));
  return { partitions, problems };
}

/**
 * Follows the EBR chain of an extended partition. Each EBR's first record is a logical partition,
 * relative to that EBR; its second points to the next EBR, relative to the extended partition's
 * start. A link outside the extended partition, back to an EBR already read, or a sector without
 * 0x55AA ends the walk with a problem, never a hang.
 */
async function logicalPartitions(g: LoadedGpt, extended: MbrPartition, problems: string[]): Promise<MbrPartition[]> {
  const out: MbrPartition[] = [];
  const seen = new Set<number>();
  const extendedEnd = extended.startLba + extended.sizeLba;
  let ebrLba = extended.startLba;
  while (out.length < MAX_LOGICAL) {
    if (seen.has(ebrLba)) return stop(`the EBR chain loops back to LBA ${ebrLba}`);
    if (ebrLba < extended.startLba || ebrLba >= extendedEnd || ebrLba > g.lastLba) return stop(`an EBR link points to LBA ${ebrLba}, outside the extended partition or the disk`);
    seen.add(ebrLba);
    const ebr: Mbr = decodeMbr(await g.source.read(ebrLba * g.sectorSize, g.sectorSize));
    if (!ebr.bootSignature) return stop(`the EBR at LBA ${ebrLba} has no 0x55AA signature`);
    const [logical, next] = ebr.records;
    if (logical && logical.osType !== 0 && logical.sizeLba > 0) {
      out.push({ number: 5 + out.length, kind: 'logical', osType: logical.osType, active: logical.bootIndicator === 0x80, startLba: ebrLba + logical.startLba, sizeLba: logical.sizeLba });
    }
    if (!next || next.osType === 0 || next.sizeLba === 0) return out;
    ebrLba = extended.startLba + next.startLba;
  }
  return stop(`the EBR chain lists more than ${MAX_LOGICAL} logical partitions; the rest are not read`);

  function stop(problem: string): MbrPartition[] {
    problems.push(problem);
    return out;
  }
}

/** True for the disk gptdoctor reads as MBR-partitioned: LBA 0 has records and nothing of a GPT was seen. */
export function isMbrOnlyDisk(g: LoadedGpt): boolean {
  if (g.mbr.kind !== 'legacy' || !g.mbr.records.some((r) => r.osType !== 0)) return false;
  return ![g.primary, g.backup].some((c) => c.header?.signature === 'EFI PART') && !g.sectorSizeChoice.gptSeenAt.length;
}
