import { MemorySource } from '../../src/disk/memory-source.js';
import { encodeEntry } from '../../src/gpt/entries.js';
import { GPT_REVISION_1_0 } from '../../src/gpt/header.js';
import { encodeProtectiveMbr } from '../../src/gpt/mbr.js';
import { encodeModel } from '../../src/plan/table-model.js';

/**
 * A GPT disk built in memory for rule-level unit tests: the edges (overlaps, usable range,
 * alignment, 4Kn sizes) that tool-made images reach only by accident. Integration tests keep
 * using images made by sgdisk, sfdisk and parted; this exercises one rule at a time.
 */
export interface SyntheticDisk {
  sectorSize?: number;
  totalSectors: number;
  /** [firstLba, lastLba] per used slot, in slot order, with the slot's type GUID where it is not `typeGuid`. */
  partitions: ReadonlyArray<readonly [number, number] | readonly [number, number, string]>;
  entryCount?: number;
  firstUsableLba?: number;
  lastUsableLba?: number;
  typeGuid?: string;
}

export function syntheticDisk(d: SyntheticDisk): MemorySource {
  const ss = d.sectorSize ?? 512;
  const entryCount = d.entryCount ?? 128;
  const arraySectors = Math.ceil((entryCount * 128) / ss);
  const lastLba = d.totalSectors - 1;
  const array = new Uint8Array(entryCount * 128);
  d.partitions.forEach(([firstLba, lastLbaOfPart, slotType], i) => {
    const uniqueGuid = `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`.toUpperCase();
    array.set(encodeEntry({ typeGuid: slotType ?? d.typeGuid ?? '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uniqueGuid, firstLba, lastLba: lastLbaOfPart, attributes: 0n, name: '' }, new Uint8Array(128)), i * 128);
  });
  const regions = encodeModel({
    sectorSize: ss,
    diskGuid: '11111111-2222-4333-8444-555555555555',
    firstUsableLba: d.firstUsableLba ?? 2 + arraySectors,
    lastUsableLba: d.lastUsableLba ?? lastLba - arraySectors - 1,
    entryCount,
    entrySize: 128,
    array,
    primaryLba: 1,
    primaryEntriesLba: 2,
    backupLba: lastLba,
    backupEntriesLba: lastLba - arraySectors,
    revision: GPT_REVISION_1_0,
    headerSize: 92,
  });
  const bytes = new Uint8Array(d.totalSectors * ss);
  bytes.set(encodeProtectiveMbr(d.totalSectors, ss), 0);
  for (const r of regions) bytes.set(r.bytes, r.lba * ss);
  return new MemorySource('synthetic.img', bytes);
}
