/**
 * VHDX validity rules beyond checksums, as qemu's block/vhdx.c applies them (vhdx_region_check,
 * vhdx_parse_log, vhdx_log_desc_is_valid) and [MS-VHDX] states them. Each is a small pure
 * function that returns the reason a structure is invalid, or undefined when it is valid.
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export interface RegionEntry {
  guid: string;
  offset: number;
  length: number;
}

/**
 * Region table entries ([MS-VHDX] §2.2.3.2): each at a 1 MiB multiple past the first MiB, with a
 * 1 MiB-multiple length; no GUID twice; no two regions, nor a region and the log, overlapping.
 */
export function regionTableProblem(regions: readonly RegionEntry[], log: { offset: number; length: number }): string | undefined {
  const seen = new Set<string>();
  for (const r of regions) {
    if (seen.has(r.guid)) return `the region ${r.guid} is listed twice`;
    seen.add(r.guid);
    if (r.offset < MiB || r.offset % MiB !== 0) return `the region ${r.guid} starts at ${r.offset}, not at a multiple of 1 MiB past the headers`;
    if (r.length === 0 || r.length % MiB !== 0) return `the region ${r.guid} is ${r.length} bytes, not a multiple of 1 MiB`;
  }
  const spans = [...regions.map((r) => ({ name: `region ${r.guid}`, from: r.offset, to: r.offset + r.length })), ...(log.length ? [{ name: 'the log', from: log.offset, to: log.offset + log.length }] : [])];
  spans.sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]!.from < spans[i - 1]!.to) return `${spans[i - 1]!.name} and ${spans[i]!.name} overlap`;
  }
  return undefined;
}

export interface MetadataEntry {
  id: string;
  offset: number;
  length: number;
}

/**
 * Metadata table entries ([MS-VHDX] §2.6.1.2): no item ID twice; every item with data lies past
 * the 64 KiB table, inside the region; no two items overlap.
 */
export function metadataItemsProblem(items: readonly MetadataEntry[], regionLength: number): string | undefined {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) return `the metadata item ${item.id} is listed twice`;
    seen.add(item.id);
    if (item.length === 0) continue;
    if (item.offset < 64 * KiB) return `the metadata item ${item.id} lies inside the metadata table`;
    if (item.offset + item.length > regionLength) return `the metadata item ${item.id} lies outside its region`;
  }
  const data = items.filter((i) => i.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < data.length; i++) {
    if (data[i]!.offset < data[i - 1]!.offset + data[i - 1]!.length) return `the metadata items ${data[i - 1]!.id} and ${data[i]!.id} overlap`;
  }
  return undefined;
}

/** The header's log fields ([MS-VHDX] §2.2.2): version 0, offset and length multiples of 1 MiB. */
export function logFieldsProblem(h: { logVersion: number; logOffset: number; logLength: number }): string | undefined {
  if (h.logVersion !== 0) return `the log version is ${h.logVersion}, not 0`;
  if (h.logOffset % MiB !== 0 || h.logLength % MiB !== 0) return `the log (at ${h.logOffset}, ${h.logLength} bytes) is not on 1 MiB multiples`;
  if (h.logLength > 0 && h.logOffset < MiB) return 'the log lies over the headers';
  return undefined;
}

/**
 * One log entry ([MS-VHDX] §2.3.1.1): the file was at least FlushedFileOffset bytes when the
 * entry was written, so a file shorter than that lost data the log relies on.
 */
export function logEntryProblem(e: { flushedFileOffset: number }, fileSize: number): string | undefined {
  if (e.flushedFileOffset > fileSize) return `a log entry says the file was ${e.flushedFileOffset} bytes when it was written, but it is ${fileSize}`;
  return undefined;
}

/**
 * One log descriptor ([MS-VHDX] §2.3.1.2-3): a zero descriptor's offset and length, and a data
 * descriptor's offset, are 4 KiB-aligned; a data sector carries the entry's sequence number
 * (SequenceHigh at 4, SequenceLow at 4092).
 */
export function logDescriptorProblem(kind: 'zero' | 'desc', fileOffset: number, length: number): string | undefined {
  if (fileOffset % (4 * KiB) !== 0) return `a log ${kind === 'zero' ? 'zero' : 'data'} descriptor writes at ${fileOffset}, not on a 4 KiB boundary`;
  if (kind === 'zero' && length % (4 * KiB) !== 0) return `a log zero descriptor clears ${length} bytes, not a multiple of 4 KiB`;
  return undefined;
}

export function dataSectorProblem(sector: Uint8Array, sequence: bigint): string | undefined {
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const high = BigInt(v.getUint32(4, true));
  const low = BigInt(v.getUint32(4092, true));
  return ((high << 32n) | low) === sequence ? undefined : 'a log data sector carries another sequence number than its entry';
}
