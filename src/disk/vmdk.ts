import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DiskError, type BlockSource, type ReadableDisk } from './block-source.js';
import { blockSpans } from './block-spans.js';
import { parentCandidates, type ParentOpener } from './differencing.js';
import { DeviceSource } from './device-source.js';
import { FileSource } from './file-source.js';
import { MAX_DESCRIPTOR_BYTES, parseVmdkDescriptor, type ExtentLine, type VmdkDescriptor } from './vmdk-descriptor.js';
import { isSeSparseExtent, SeSparseExtent } from './vmdk-sesparse.js';
import { isSparseExtent, SparseExtent, type Grain } from './vmdk-sparse.js';
import { intersectRanges, RangeList, sourceRanges, unionRanges, type Range } from './ranges.js';
import { throughViews } from './views.js';

/**
 * VMDK, read-only: every hosted layout (monolithicSparse, streamOptimized, monolithicFlat,
 * twoGbMaxExtentSparse, twoGbMaxExtentFlat, ESXi's flat "VMFS" descriptors and its seSparse
 * extents, alone or named by a descriptor) and snapshots, which read what their sparse extents
 * do not hold from the parent named by parentFileNameHint.
 * A snapshot is read through its parent only when the parent's CID is the one the snapshot
 * recorded: a parent written to after the snapshot was taken would mix two different disks.
 */

/** What both sparse formats (hosted KDMV, ESXi seSparse) answer: grains of one size. */
interface GrainedExtent {
  readonly size: number;
  readonly grainBytes: number;
  grain(index: number): Promise<Grain>;
  /** The byte ranges of the extent its allocated grains hold. */
  dataRanges(): Promise<Range[]>;
}

type ExtentData = { kind: 'flat'; file: BlockSource; offset: number } | { kind: 'sparse'; extent: GrainedExtent } | { kind: 'zero' };

/** Extent types this reader opens; VMFSSPARSE (ESXi's older "COWD" snapshots) and raw device mappings are not. */
const READABLE = ['FLAT', 'VMFS', 'SPARSE', 'SESPARSE', 'ZERO'];

/** An extent at its place on the virtual disk; its file is opened on first read. */
interface PlacedExtent {
  start: number;
  size: number;
  line: ExtentLine;
  /** The extent file found on disk (absent for ZERO). */
  path?: string;
  data?: ExtentData;
}

export class VmdkSource implements BlockSource {
  readonly format = 'vmdk' as const;
  readonly writable = false;
  readonly readOnlyReason = 'gptdoctor reads VMDK images but does not write them';
  readonly declaredSectorSize = 512;
  private read_ = 0;
  private readonly opened = new Map<string, BlockSource>();

  private constructor(
    private readonly file: ReadableDisk,
    private readonly descriptor: VmdkDescriptor,
    private readonly extents: PlacedExtent[],
    readonly size: number,
    private readonly parent?: BlockSource,
  ) {
    this.opened.set(file.path, file);
  }

  get path(): string {
    return this.file.path;
  }
  get bytesRead(): number {
    return this.read_;
  }
  /** The content ID a snapshot of this disk records as its parentCID. */
  get cid(): string | undefined {
    return this.descriptor.cid;
  }
  get containerInfo(): Record<string, string | number> {
    const info: Record<string, string | number> = { createType: this.descriptor.createType ?? 'unknown', extents: this.extents.length };
    if (this.descriptor.cid) info.cid = this.descriptor.cid;
    if (this.parent) info.parent = this.parent.path;
    return info;
  }

  static async open(file: ReadableDisk, openParent: ParentOpener): Promise<VmdkSource> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const parse = (text: string): VmdkDescriptor => {
      try {
        return parseVmdkDescriptor(text);
      } catch (err) {
        return fail(`VMDK descriptor: ${(err as Error).message}`);
      }
    };
    let descriptor: VmdkDescriptor;
    let extents: PlacedExtent[];
    const head = await file.read(0, 8);
    if (isSparseExtent(head) || isSeSparseExtent(head)) {
      // One sparse extent; a hosted one's embedded descriptor only matters for a parent. A bare
      // seSparse extent has no descriptor, so no parent: its unallocated grains read as zeros.
      const type = isSparseExtent(head) ? 'SPARSE' : 'SESPARSE';
      const sparse = type === 'SPARSE' ? await SparseExtent.open(file) : await SeSparseExtent.open(file);
      const text = await sparse.embeddedDescriptor();
      descriptor = text ? parse(text) : { extents: [] };
      const line: ExtentLine = { access: 'RW', sectors: sparse.size / 512, type, file: file.path, offset: 0 };
      extents = [{ start: 0, size: sparse.size, line, path: file.path, data: { kind: 'sparse', extent: sparse } }];
    } else {
      if (file.size > MAX_DESCRIPTOR_BYTES) fail(`a VMDK descriptor of ${file.size} bytes is implausible`);
      descriptor = parse(new TextDecoder().decode(await file.read(0, file.size)));
      if (descriptor.extents.length === 0) fail('the VMDK descriptor lists no extents');
      extents = [];
      let start = 0;
      for (const [i, line] of descriptor.extents.entries()) {
        const what = `extent ${i + 1} (${line.type}${line.file ? ` "${line.file}"` : ''})`;
        if (line.access === 'NOACCESS') fail(`${what} is marked NOACCESS`);
        if (!READABLE.includes(line.type)) {
          fail(`${what}: ${line.type} extents (ESXi snapshots, raw device mappings) are not supported; clone the disk into a hosted format (vmkfstools -i, or qemu-img convert)`);
        }
        const size = line.sectors * 512;
        const path = line.file === undefined ? undefined : await findExtentFile(file.path, line.file);
        extents.push({ start, size, line, path });
        start += size;
        if (!Number.isSafeInteger(start)) fail('the VMDK extents add up to an impossible size');
      }
    }
    const size = extents.reduce((sum, e) => sum + e.size, 0);
    if (size <= 0) fail('the VMDK has no capacity');

    let parent: BlockSource | undefined;
    if (descriptor.parentCid) {
      if (!descriptor.parentFileNameHint) fail(`this VMDK is a snapshot (parentCID ${descriptor.parentCid}) but names no parent file`);
      parent = await openParent([descriptor.parentFileNameHint!]);
      const reader = throughViews(parent); // a parent read over HTTP(S) or decompressed
      const parentCid = reader instanceof VmdkSource ? reader.cid : undefined;
      if (parentCid !== descriptor.parentCid) {
        await parent.close();
        fail(
          parentCid
            ? `its parent ${parent.path} has CID ${parentCid}, but this snapshot was taken of CID ${descriptor.parentCid}: the parent changed after the snapshot, and reading through it would mix two disks`
            : `its parent ${parent.path} is not a VMDK with a CID, so it cannot be proven to be the disk this snapshot was taken of`,
        );
      }
    }
    return new VmdkSource(file, descriptor, extents, size, parent);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (let i = this.firstExtentAt(offset); i < this.extents.length; i++) {
      const extent = this.extents[i]!;
      if (extent.start >= end) break;
      const from = Math.max(offset, extent.start);
      const to = Math.min(end, extent.start + extent.size);
      if (from < to) await this.readExtent(extent, from, to, out, offset);
    }
    this.read_ += out.length;
    return out;
  }

  /** Index of the extent holding `offset` (binary search: extents are in disk order). */
  private firstExtentAt(offset: number): number {
    let lo = 0;
    let hi = this.extents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.extents[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Reads virtual bytes [from, to) of one extent into `out` (whose byte 0 is virtual `outStart`). */
  private async readExtent(extent: PlacedExtent, from: number, to: number, out: Uint8Array, outStart: number): Promise<void> {
    const data = await this.extentData(extent);
    if (data.kind === 'zero') return;
    if (data.kind === 'flat') {
      out.set(await data.file.read(data.offset + from - extent.start, to - from), from - outStart);
      return;
    }
    for (const span of blockSpans(from - extent.start, to - extent.start, data.extent.grainBytes)) {
      const grain = await data.extent.grain(span.block);
      const at = extent.start + span.at;
      if (grain instanceof Uint8Array) out.set(grain.subarray(span.within, span.within + span.length), at - outStart);
      else if (grain === 'unallocated' && this.parent) out.set(await this.parent.read(at, span.length), at - outStart);
      // otherwise zeros: a zeroed grain, or an unallocated one without a parent
    }
  }

  /**
   * Extent by extent: a flat one as far as its file holds it (read() gives zeros past its end),
   * a sparse one's allocated grains, a ZERO one nothing; a snapshot adds its parent's ranges
   * where its sparse extents leave grains to the parent.
   */
  async dataRanges(): Promise<Range[]> {
    const out = new RangeList();
    const overParent = new RangeList();
    for (const extent of this.extents) {
      const data = await this.extentData(extent);
      const end = extent.start + extent.size;
      if (data.kind === 'flat') out.add(extent.start, Math.min(end, extent.start + Math.max(0, data.file.size - data.offset)));
      if (data.kind !== 'sparse') continue;
      for (const [from, to] of await data.extent.dataRanges()) out.add(extent.start + from, extent.start + to);
      overParent.add(extent.start, end);
    }
    if (!this.parent) return out.ranges();
    return unionRanges(out.ranges(), intersectRanges(await sourceRanges(this.parent), overParent.ranges()));
  }

  private async extentData(extent: PlacedExtent): Promise<ExtentData> {
    if (extent.data) return extent.data;
    const { line, path } = extent;
    if (line.type === 'ZERO' || path === undefined) return (extent.data = { kind: 'zero' });
    let file = this.opened.get(path);
    if (!file) {
      // An ESXi flat extent may be a raw device: its size comes from the device, not from fstat (0).
      file = statSync(path).isBlockDevice() ? await DeviceSource.open(path) : await FileSource.open(path);
      this.opened.set(path, file);
    }
    if (line.type === 'SPARSE' || line.type === 'SESPARSE') {
      const sparse: GrainedExtent = line.type === 'SPARSE' ? await SparseExtent.open(file) : await SeSparseExtent.open(file);
      if (sparse.size !== extent.size) {
        throw new DiskError('EFORMAT', `${this.path}: extent file ${path} holds ${sparse.size / 512} sectors, but the descriptor says ${line.sectors}`);
      }
      return (extent.data = { kind: 'sparse', extent: sparse });
    }
    return (extent.data = { kind: 'flat', file, offset: line.offset * 512 });
  }

  async close(): Promise<void> {
    for (const file of this.opened.values()) await file.close();
    this.opened.clear();
    await this.parent?.close();
  }
}

/** Where an extent file named in a descriptor is here: beside the descriptor, like VMware looks. */
async function findExtentFile(descriptorPath: string, name: string): Promise<string> {
  for (const candidate of parentCandidates(descriptorPath, [name])) {
    if (await stat(candidate).then((s) => s.isFile() || s.isBlockDevice(), () => false)) return candidate;
  }
  throw new DiskError('ENOENT', `${descriptorPath}: its extent file "${name}" is missing`);
}
