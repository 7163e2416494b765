import { sliceReader, type ByteReader } from '../fs/byte-reader.js';
import { sniffFilesystem, type FilesystemKind } from '../fs/sniff.js';
import type { BlockSource } from '../disk/block-source.js';
import type { GptEntry } from '../gpt/entries.js';
import type { LoadedGpt } from './load-gpt.js';

export interface PartitionFs {
  kind: FilesystemKind;
  label?: string;
  reader: ByteReader;
}

/** A ByteReader over a whole BlockSource, for slicing into partitions. */
export function diskReader(source: BlockSource): ByteReader {
  return { size: source.size, read: (offset, length) => source.read(offset, length) };
}

/** The bytes of one partition, clipped to the disk. */
export function partitionReader(loaded: LoadedGpt, entry: GptEntry): ByteReader | undefined {
  const start = entry.firstLba * loaded.sectorSize;
  if (entry.lastLba < entry.firstLba || start >= loaded.source.size) return undefined;
  const end = Math.min((entry.lastLba + 1) * loaded.sectorSize, loaded.source.size);
  return sliceReader(diskReader(loaded.source), start, end - start);
}

/** Sniffs every partition that lies on the disk. Each costs a few small reads. */
export async function sniffPartitions(loaded: LoadedGpt): Promise<Map<number, PartitionFs>> {
  const result = new Map<number, PartitionFs>();
  for (const entry of loaded.partitions) {
    const reader = partitionReader(loaded, entry);
    if (!reader) continue;
    const sniff = await sniffFilesystem(reader);
    result.set(entry.index, { kind: sniff.kind, ...(sniff.label !== undefined ? { label: sniff.label } : {}), reader });
  }
  return result;
}
