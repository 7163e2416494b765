import { hex8 } from '../gpt/le.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { isMbrOnlyDisk } from '../read/mbr-layout.js';
import { readMbrSystem } from '../read/mbr-system.js';
import { mbrBcdReport, type BcdReport } from './bcd-report.js';

/** What `inspect --json` lists of an MBR-partitioned disk (one with no GPT): its partitions as Linux numbers them. */
export interface MbrPartitionReport {
  /** 1–4 the primary slots, 5 on the logical partitions in EBR-chain order (as sfdisk and Linux number them). */
  number: number;
  kind: 'primary' | 'extended' | 'logical';
  /** The MBR type byte, "0x07". */
  type: string;
  active: boolean;
  firstLba: number;
  lastLba: number;
  size: number;
  filesystem?: string;
  label?: string;
  volumeError?: string;
}

export interface MbrDiskReport {
  partitions: MbrPartitionReport[];
  /** What in the EBR chain could not be followed. */
  problems: string[];
  /** The Windows boot configuration on the system partition (\Boot\BCD), when one holds it. */
  bcd?: BcdReport;
}

/** The partitions (and BCD) of a disk gptdoctor reads as MBR-partitioned; undefined for any other disk. */
export async function mbrDiskReport(g: LoadedGpt): Promise<MbrDiskReport | undefined> {
  if (!isMbrOnlyDisk(g)) return undefined;
  const system = await readMbrSystem(g);
  const volume = (n: number) => system.volumes.find((v) => v.partition.number === n);
  const partitions = system.layout.partitions.map((p): MbrPartitionReport => {
    const v = volume(p.number);
    return {
      number: p.number,
      kind: p.kind,
      type: hex8(p.osType),
      active: p.active,
      firstLba: p.startLba,
      lastLba: p.startLba + p.sizeLba - 1,
      size: p.sizeLba * g.sectorSize,
      ...(v?.filesystem ? { filesystem: v.filesystem } : {}),
      ...(v?.label !== undefined ? { label: v.label } : {}),
      ...(v?.volumeError !== undefined ? { volumeError: v.volumeError } : {}),
    };
  });
  const bcd = mbrBcdReport(g, system);
  return { partitions, problems: system.layout.problems, ...(bcd ? { bcd } : {}) };
}
