import type { PartitionReport } from '../../src/report/inspect-report.js';

/** One partition as `sfdisk --json` prints it. */
export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid: string;
  name?: string;
  attrs?: string;
}

export interface SfdiskTable {
  partitiontable: { label: string; id: string; sectorsize?: number; firstlba?: number; lastlba?: number; partitions?: SfdiskPartition[] };
}

/** libfdisk's names for the UEFI attribute bits; bits 48–63 print as GUID:n,m. */
const SFDISK_BITS: Record<number, string> = { 0: 'RequiredPartition', 1: 'NoBlockIOProtocol', 2: 'LegacyBIOSBootable' };

/** Our 64-bit attribute value written the way sfdisk --json prints it (undefined when 0). */
export function sfdiskAttrs(hex: string): string | undefined {
  const value = BigInt(hex);
  const words: string[] = [];
  for (const bit of [0, 1, 2]) if ((value >> BigInt(bit)) & 1n) words.push(SFDISK_BITS[bit]!);
  const guidBits: number[] = [];
  for (let bit = 48; bit < 64; bit++) if ((value >> BigInt(bit)) & 1n) guidBits.push(bit);
  if (guidBits.length) words.push(`GUID:${guidBits.join(',')}`);
  return words.length ? words.join(' ') : undefined;
}

/** The slot number at the end of sfdisk's node name ("disk.img12" → 12, "/dev/loop0p3" → 3). */
export function sfdiskIndex(node: string): number {
  return Number(/(\d+)$/.exec(node)![1]);
}

/** The fields sfdisk and gptdoctor both report, in sfdisk's terms, for comparison. */
export function fromSfdisk(p: SfdiskPartition): Record<string, unknown> {
  return { index: sfdiskIndex(p.node), type: p.type.toUpperCase(), guid: p.uuid.toUpperCase(), firstLba: p.start, lastLba: p.start + p.size - 1, name: p.name ?? '', attrs: p.attrs };
}

export function fromGptdoctor(p: PartitionReport): Record<string, unknown> {
  return { index: p.index, type: p.type, guid: p.guid, firstLba: p.firstLba, lastLba: p.lastLba, name: p.name, attrs: sfdiskAttrs(p.attributes) };
}
