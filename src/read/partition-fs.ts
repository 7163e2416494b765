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

/**
 * Partitions sniffed at once: a disk read over a network then fetches their first sectors
 * concurrently (the read cache merges what lies close), while a table of thousands of entries
 * never holds thousands of reads in flight.
 */
const SNIFF_CONCURRENCY = 8;

/** Sniffs every partition that lies on the disk, a few at a time; the map keeps the table's order. Each costs a few small reads. */
export async function sniffPartitions(loaded: LoadedGpt): Promise<Map<number, PartitionFs>> {
  const onDisk = loaded.partitions.flatMap((entry) => {
    const reader = partitionReader(loaded, entry);
    return reader ? [{ entry, reader }] : [];
  });
  const sniffed = new Array<PartitionFs>(onDisk.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < onDisk.length; i = next++) {
      const { reader } = onDisk[i]!;
      const sniff = await sniffFilesystem(reader);
      sniffed[i] = { kind: sniff.kind, ...(sniff.label !== undefined ? { label: sniff.label } : {}), reader };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SNIFF_CONCURRENCY, onDisk.length) }, worker));
  return new Map(onDisk.map(({ entry }, i) => [entry.index, sniffed[i]!]));
}
