import type { ByteReader } from './byte-reader.js';
import { decodeRunlist, overlappingCluster, type Run } from './ntfs-runlist.js';
import { copyOf, type Attribute, type NonResidentAttribute } from './ntfs-record.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * The bytes of one attribute (a $DATA stream, an $INDEX_ALLOCATION, an attribute list): resident
 * in its record, or non-resident over runs gathered from every extent of the attribute. Reads
 * return at most the bytes asked for, zeros for sparse runs and past the initialized size.
 */
export interface NtfsStream {
  readonly dataSize: number;
  /** Bytes [offset, offset + length) clipped to the data size; throws VolumeUnreadable. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface Geometry {
  clusterSize: number;
  totalClusters: number;
}

/** Runs per stream: a 16 TiB file fragmented into 4 KiB pieces has ~4 G; a million covers real volumes. */
export const MAX_RUNS = 1 << 20;
/** One read of the underlying reader: big files come in 1 MiB pieces. */
const READ_CHUNK = 1024 * 1024;

export function residentStream(value: Uint8Array): NtfsStream {
  return { dataSize: value.length, read: async (offset, length) => copyOf(value, Math.min(offset, value.length), Math.min(offset + length, value.length)) };
}

/**
 * A stream over the extents of one non-resident attribute, sorted by their first VCN: they must
 * start at VCN 0 and follow each other without gap or overlap, each runlist must end where its
 * extent says, no cluster may be mapped twice, and the runs must cover the data size. `partial`
 * skips the coverage checks, for the bootstrap of an $MFT whose later extents are not read yet.
 */
export function nonResidentStream(r: ByteReader, g: Geometry, extents: readonly NonResidentAttribute[], what: string, partial = false): NtfsStream {
  const fail = (reason: string): never => {
    throw new VolumeUnreadable(`${what}: ${reason}`);
  };
  const sorted = [...extents].sort((a, b) => a.lowestVcn - b.lowestVcn);
  const first = sorted[0];
  if (!first || first.lowestVcn !== 0) return fail('no extent starts at VCN 0');
  const runs: Run[] = [];
  let vcn = 0;
  for (const extent of sorted) {
    if (extent.lowestVcn !== vcn) fail(`extent from VCN ${extent.lowestVcn} where VCN ${vcn} was expected (a gap or overlap in the attribute list)`);
    const decoded = decodeRunlist(extent.mappingPairs, vcn, g.totalClusters, MAX_RUNS - runs.length);
    if (!decoded.ok) return fail(decoded.reason);
    if (decoded.nextVcn !== extent.highestVcn + 1) fail(`runs end at VCN ${decoded.nextVcn - 1}, the extent at VCN ${extent.highestVcn}`);
    for (const run of decoded.runs) runs.push(run);
    vcn = decoded.nextVcn;
  }
  const twice = overlappingCluster(runs);
  if (twice !== undefined) fail(`cluster ${twice} is mapped twice`);
  const { dataSize, allocatedSize } = first;
  const initializedSize = Math.min(first.initializedSize, dataSize);
  const mapped = vcn * g.clusterSize;
  if (!partial && dataSize > allocatedSize) fail(`data size ${dataSize} exceeds the allocated size ${allocatedSize}`);
  if (!partial && dataSize > mapped) fail(`data size ${dataSize} exceeds the ${mapped} bytes the runs map`);
  const size = partial ? Math.min(dataSize, mapped) : dataSize;

  /** The run holding `v`, by binary search (runs are in VCN order). */
  const runAt = (v: number): Run | undefined => {
    let lo = 0;
    let hi = runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const run = runs[mid]!;
      if (v < run.vcn) hi = mid - 1;
      else if (v >= run.vcn + run.length) lo = mid + 1;
      else return run;
    }
    return undefined;
  };

  return {
    dataSize: size,
    read: async (offset, length) => {
      const from = Math.max(0, Math.min(offset, size));
      const to = Math.max(from, Math.min(offset + length, size));
      const out = new Uint8Array(to - from);
      const cs = g.clusterSize;
      for (let at = from; at < Math.min(to, initializedSize); ) {
        const run = runAt(Math.floor(at / cs)) ?? fail(`no run maps byte ${at}`);
        const piece = Math.min((run.vcn + run.length) * cs, to, initializedSize, at + READ_CHUNK) - at;
        if (run.lcn !== null) {
          const bytes = await r.read(run.lcn * cs + (at - run.vcn * cs), piece);
          if (bytes.length < piece) fail(`the partition ends inside cluster ${run.lcn + Math.floor((at - run.vcn * cs + bytes.length) / cs)}`);
          out.set(bytes.subarray(0, piece), at - from);
        }
        at += piece;
      }
      return out;
    },
  };
}

/** Compressed (LZNT1) and encrypted (EFS) streams hold no plain bytes; the flags say so. */
export function unsupportedEncoding(attributes: readonly Attribute[]): string | undefined {
  const flags = attributes.reduce((f, a) => f | a.flags, 0);
  if (flags & 0x00ff) return 'compressed (LZNT1)';
  if (flags & 0x4000) return 'encrypted (EFS)';
  return undefined;
}
