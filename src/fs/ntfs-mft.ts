import { u16, u32 } from '../gpt/le.js';
import type { ByteReader } from './byte-reader.js';
import type { NtfsBoot } from './ntfs-boot.js';
import { AT, copyOf, decodeFileName, decodeRecord, mftRef, namePreference, s64, utf16, type Attribute, type FileName, type MftRecord, type NonResidentAttribute } from './ntfs-record.js';
import { nonResidentStream, residentStream, type Geometry, type NtfsStream } from './ntfs-stream.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * The MFT as a table of files: records read through the $MFT's own $DATA stream (openMft finds
 * it from record 0), and each file's attributes gathered from its base record and, through an
 * $ATTRIBUTE_LIST, its extension records. Everything that fails throws VolumeUnreadable with the record's number in the reason.
 */
export interface NtfsFile {
  record: number;
  isDirectory: boolean;
  /** In attribute-list order when there is one, else in record order. */
  attributes: Attribute[];
}

/** An attribute list longer than this is damage: 256 KiB holds 8,000 entries. */
const MAX_ATTRIBUTE_LIST_BYTES = 256 * 1024;
const MAX_ATTRIBUTE_LIST_ENTRIES = 8192;
/** Decoded records kept; cleared when full (directories list a few hundred at a time). */
const RECORD_CACHE = 4096;
const MFT = 0;

export class Mft {
  private readonly cache = new Map<number, MftRecord>();
  private recordCount: number;

  constructor(
    private readonly r: ByteReader,
    private readonly g: Geometry,
    private readonly recordSize: number,
    private mftStream: NtfsStream,
  ) {
    this.recordCount = Math.floor(mftStream.dataSize / recordSize);
  }

  /** Replaces the bootstrap stream (record 0's first extent) by the whole $MFT once it is known. */
  useStream(stream: NtfsStream): void {
    this.mftStream = stream;
    this.recordCount = Math.floor(stream.dataSize / this.recordSize);
    this.cache.clear();
  }

  get records(): number {
    return this.recordCount;
  }

  /** Seeds the cache with a record read some other way (record 0, possibly from the mirror). */
  remember(number: number, record: MftRecord): void {
    this.cache.set(number, record);
  }

  async record(n: number): Promise<MftRecord> {
    const cached = this.cache.get(n);
    if (cached) return cached;
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) throw new VolumeUnreadable(`MFT record ${n} is beyond the $MFT's ${this.recordCount} records`);
    const bytes = await this.mftStream.read(n * this.recordSize, this.recordSize);
    if (bytes.length < this.recordSize) throw new VolumeUnreadable(`MFT record ${n} is cut short`);
    const decoded = decodeRecord(bytes, n);
    if (!decoded.ok) throw new VolumeUnreadable(decoded.reason);
    if (this.cache.size >= RECORD_CACHE) this.cache.clear();
    this.cache.set(n, decoded);
    return decoded;
  }

  /**
   * File `n` with all its attributes. `seq` (from a directory entry or a parent reference) must
   * match the record's sequence number when given, else the entry names a reused record.
   */
  async file(n: number, seq?: number): Promise<NtfsFile> {
    const base = await this.record(n);
    if (!base.inUse) throw new VolumeUnreadable(`MFT record ${n} is not in use`);
    if (base.baseRecord !== 0) throw new VolumeUnreadable(`MFT record ${n} is an extension of record ${base.baseRecord}, not a file`);
    if (seq && base.sequence && seq !== base.sequence) throw new VolumeUnreadable(`MFT record ${n} has sequence number ${base.sequence}, the reference ${seq} (a stale entry)`);
    const lists = base.attributes.filter((a) => a.type === AT.ATTRIBUTE_LIST);
    if (lists.length > 1) throw new VolumeUnreadable(`MFT record ${n} has ${lists.length} attribute lists`);
    const list = lists[0];
    const attributes = list ? await this.listed(n, base, list) : base.attributes;
    return { record: n, isDirectory: base.isDirectory, attributes };
  }

  /**
   * The attributes an $ATTRIBUTE_LIST names, each found in the record it names by type, name,
   * instance and first VCN. An extension record must belong to this file and hold no list of its own; an
   * attribute named twice, or not where the list says, makes the file unreadable.
   */
  private async listed(n: number, base: MftRecord, list: Attribute): Promise<Attribute[]> {
    const what = `MFT record ${n}'s attribute list`;
    let bytes: Uint8Array;
    if (list.resident) bytes = list.value;
    else {
      if (list.dataSize > MAX_ATTRIBUTE_LIST_BYTES) throw new VolumeUnreadable(`${what} claims ${list.dataSize} bytes`);
      bytes = await nonResidentStream(this.r, this.g, [list], what).read(0, list.dataSize);
    }
    const records = new Map<number, MftRecord>([[n, base]]);
    const used = new Set<Attribute>();
    const out: Attribute[] = [];
    for (let at = 0; at + 0x1a <= bytes.length; ) {
      if (out.length >= MAX_ATTRIBUTE_LIST_ENTRIES) throw new VolumeUnreadable(`${what} has more than ${MAX_ATTRIBUTE_LIST_ENTRIES} entries`);
      const type = u32(bytes, at);
      const length = u16(bytes, at + 4);
      const nameLength = bytes[at + 6]!;
      const nameOffset = bytes[at + 7]!;
      if (length < 0x1a || at + length > bytes.length || (nameLength > 0 && nameOffset + nameLength * 2 > length)) throw new VolumeUnreadable(`${what}: entry at ${at} of ${length} bytes does not fit`);
      const lowestVcn = s64(bytes, at + 8);
      const { record } = mftRef(bytes, at + 0x10);
      const instance = u16(bytes, at + 0x18);
      const name = utf16(bytes, at + nameOffset, nameLength);
      at += length;
      if (type === AT.ATTRIBUTE_LIST) throw new VolumeUnreadable(`${what} lists an attribute list (in record ${record})`);
      let holder = records.get(record);
      if (!holder) {
        holder = await this.record(record);
        if (!holder.inUse || holder.baseRecord !== n) throw new VolumeUnreadable(`${what} names record ${record}, which ${holder.inUse ? `belongs to record ${holder.baseRecord}` : 'is not in use'}`);
        if (holder.attributes.some((a) => a.type === AT.ATTRIBUTE_LIST)) throw new VolumeUnreadable(`extension record ${record} of record ${n} holds an attribute list`);
        records.set(record, holder);
      }
      // The instance tells apart attributes of one type in one record (a file's several $FILE_NAMEs).
      const found = holder.attributes.find((a) => a.type === type && a.name === name && a.instance === instance && (a.resident ? lowestVcn === 0 : a.lowestVcn === lowestVcn));
      if (!found) throw new VolumeUnreadable(`${what} names attribute 0x${type.toString(16)} #${instance} from VCN ${lowestVcn} in record ${record}, which does not hold it`);
      if (used.has(found)) throw new VolumeUnreadable(`${what} names attribute 0x${type.toString(16)} from VCN ${lowestVcn} in record ${record} twice`);
      used.add(found);
      out.push(found);
    }
    return out;
  }

  /** The attribute's bytes as a stream; undefined when the file has no such attribute. */
  stream(file: NtfsFile, type: number, name = ''): NtfsStream | undefined {
    const parts = file.attributes.filter((a) => a.type === type && a.name === name);
    if (parts.length === 0) return undefined;
    const what = `MFT record ${file.record}'s attribute 0x${type.toString(16)}${name ? ` "${name}"` : ''}`;
    const first = parts[0]!;
    if (first.resident) {
      if (parts.length > 1) throw new VolumeUnreadable(`${what} is resident and also has ${parts.length - 1} more extents`);
      return residentStream(first.value);
    }
    if (parts.some((p) => p.resident)) throw new VolumeUnreadable(`${what} mixes resident and non-resident extents`);
    return nonResidentStream(this.r, this.g, parts as NonResidentAttribute[], what);
  }
}

/**
 * Size of the file's unnamed $DATA, from the extent at VCN 0 (the only one that carries sizes).
 * A size beyond what the extents allocate (a 2^50-byte Winre.wim on a 500 MiB partition) makes
 * the file unreadable here already, so that stat and readDir never report it.
 */
export function dataSize(file: NtfsFile, clusterSize: number): number {
  const data = file.attributes.filter((a) => a.type === AT.DATA && a.name === '');
  const first = data.find((a) => a.resident || a.lowestVcn === 0);
  if (!first) return 0;
  if (first.resident) return first.value.length;
  const vcns = Math.max(...data.map((a) => (a.resident ? 0 : a.highestVcn + 1)));
  const allocated = Math.min(first.allocatedSize, vcns * clusterSize);
  if (first.dataSize > allocated) throw new VolumeUnreadable(`MFT record ${file.record}: $DATA claims ${first.dataSize} bytes, more than the ${allocated} its extents allocate`);
  return first.dataSize;
}

/** The file's $FILE_NAMEs, best namespace first (Win32 before POSIX before a DOS alias). */
export function fileNames(file: NtfsFile): FileName[] {
  return file.attributes
    .filter((a) => a.type === AT.FILE_NAME && a.resident)
    .map((a) => decodeFileName((a as { value: Uint8Array }).value))
    .filter((n): n is FileName => n !== undefined)
    .sort((a, b) => namePreference(a.namespace) - namePreference(b.namespace));
}

/**
 * Record 0 describes the $MFT itself: read it at the boot sector's MFT cluster (or from $MFTMirr
 * when that copy fails its fixups), map the records its first extent covers, and if it has an
 * attribute list, gather the later extents from the extension records those first clusters hold.
 */
export async function openMft(r: ByteReader, boot: NtfsBoot, problems: string[]): Promise<Mft> {
  const at = async (lcn: number): Promise<ReturnType<typeof decodeRecord>> => {
    const bytes = await r.read(lcn * boot.clusterSize, boot.mftRecordSize);
    return bytes.length < boot.mftRecordSize ? { ok: false, reason: 'MFT record 0 lies past the end of the partition' } : decodeRecord(copyOf(bytes, 0, boot.mftRecordSize), MFT);
  };
  let record: ReturnType<typeof decodeRecord> = await at(boot.mftLcn);
  if (!record.ok || !record.inUse) {
    const mirror = await at(boot.mftMirrLcn);
    if (!mirror.ok || !mirror.inUse) throw new VolumeUnreadable(`$MFT: ${record.ok ? 'record 0 is not in use' : record.reason}; the $MFTMirr copy too`);
    problems.push(`$MFT record 0 is damaged (${record.ok ? 'not in use' : record.reason}); read from $MFTMirr`);
    record = mirror;
  }
  const base: MftRecord = record;
  const data = base.attributes.filter((a): a is NonResidentAttribute => a.type === AT.DATA && a.name === '' && !a.resident);
  const first = data.filter((a) => a.lowestVcn === 0);
  if (first.length !== 1) throw new VolumeUnreadable('$MFT: record 0 has no non-resident $DATA starting at VCN 0');
  const geometry = { clusterSize: boot.clusterSize, totalClusters: boot.totalClusters };
  const mft = new Mft(r, geometry, boot.mftRecordSize, nonResidentStream(r, geometry, first, '$MFT', true));
  mft.remember(MFT, base);
  // Without an attribute list record 0 holds every extent; with one, the list names them.
  const hasList = base.attributes.some((a) => a.type === AT.ATTRIBUTE_LIST);
  const whole = hasList ? mft.stream(await mft.file(MFT), AT.DATA) : nonResidentStream(r, geometry, data, '$MFT');
  if (!whole) throw new VolumeUnreadable('$MFT: its attribute list names no $DATA');
  mft.useStream(whole);
  mft.remember(MFT, base);
  return mft;
}
