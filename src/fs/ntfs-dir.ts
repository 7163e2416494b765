import { decodeIndexBlock, decodeIndexRoot, collateNames, type IndexEntry, type IndexNode, type IndexRoot, type Upcase } from './ntfs-index.js';
import type { Mft, NtfsFile } from './ntfs-mft.js';
import { AT } from './ntfs-record.js';
import type { NtfsStream } from './ntfs-stream.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * A directory's $I30 index as a B-tree over $INDEX_ROOT and the INDX blocks of
 * $INDEX_ALLOCATION. Listing visits every block once (a block reached twice is a cycle); a lookup
 * descends by collation, reading one block per level. Depth and block counts are capped.
 */

/** B-trees of real directories are a few levels deep; 32 levels of 4 KiB blocks is astronomically many names. */
const MAX_DEPTH = 32;
/** Blocks one listing may visit: 65,536 × 4 KiB = 256 MiB of index, far more than any directory. */
const MAX_BLOCKS = 65536;

interface Index {
  root: IndexRoot;
  allocation?: NtfsStream;
  /** Bytes per VCN of $INDEX_ALLOCATION: a cluster, or 512 when blocks are smaller than clusters. */
  vcnSize: number;
  /** The directory, for reasons. */
  what: string;
}

export class Directories {
  constructor(
    private readonly mft: Mft,
    private readonly clusterSize: number,
    private readonly upcase: Upcase,
  ) {}

  private index(dir: NtfsFile): Index {
    const what = `directory record ${dir.record}`;
    const rootAttr = dir.attributes.find((a) => a.type === AT.INDEX_ROOT && a.name === '$I30');
    if (!rootAttr || !rootAttr.resident) throw new VolumeUnreadable(`${what} has no resident $INDEX_ROOT`);
    const root = decodeIndexRoot(rootAttr.value);
    if (!root.ok) throw new VolumeUnreadable(`${what}: ${root.reason}`);
    const allocation = this.mft.stream(dir, AT.INDEX_ALLOCATION, '$I30');
    const vcnSize = root.blockSize >= this.clusterSize ? this.clusterSize : 512;
    return { root, allocation, vcnSize, what };
  }

  private async block(index: Index, vcn: number): Promise<IndexNode> {
    const { allocation, root, vcnSize, what } = index;
    if (!allocation) throw new VolumeUnreadable(`${what}: an index entry points to block ${vcn} but there is no $INDEX_ALLOCATION`);
    const offset = vcn * vcnSize;
    if (!Number.isSafeInteger(offset) || offset + root.blockSize > allocation.dataSize) throw new VolumeUnreadable(`${what}: index block at VCN ${vcn} lies outside its ${allocation.dataSize}-byte $INDEX_ALLOCATION`);
    const node = decodeIndexBlock(await allocation.read(offset, root.blockSize), vcn);
    if (!node.ok) throw new VolumeUnreadable(`${what}: ${node.reason}`);
    return node;
  }

  /** Every entry of the directory's index with a key, in collation order. */
  async entries(dir: NtfsFile): Promise<IndexEntry[]> {
    const index = this.index(dir);
    const out: IndexEntry[] = [];
    const visited = new Set<number>();
    const walk = async (node: IndexNode, depth: number): Promise<void> => {
      for (const entry of node.entries) {
        if (entry.subNode !== undefined) {
          if (depth >= MAX_DEPTH) throw new VolumeUnreadable(`${index.what}: index deeper than ${MAX_DEPTH} levels`);
          if (visited.has(entry.subNode)) throw new VolumeUnreadable(`${index.what}: index block at VCN ${entry.subNode} is reached twice (a sub-node cycle)`);
          if (visited.size >= MAX_BLOCKS) throw new VolumeUnreadable(`${index.what}: more than ${MAX_BLOCKS} index blocks`);
          visited.add(entry.subNode);
          await walk(await this.block(index, entry.subNode), depth + 1);
        }
        if (entry.key) out.push(entry);
      }
    };
    await walk(index.root.node, 0);
    return out;
  }

  /** The first entry whose name equals `name` ignoring case (any namespace, DOS aliases included). */
  async lookup(dir: NtfsFile, name: string): Promise<IndexEntry | undefined> {
    const index = this.index(dir);
    const visited = new Set<number>();
    let node = index.root.node;
    for (let depth = 0; ; depth++) {
      let next: number | undefined;
      for (const entry of node.entries) {
        const order = entry.key ? collateNames(name, entry.key.name, this.upcase) : -1;
        if (order === 0) return entry;
        if (order < 0) {
          next = entry.subNode;
          break;
        }
      }
      if (next === undefined) return undefined;
      if (depth >= MAX_DEPTH) throw new VolumeUnreadable(`${index.what}: index deeper than ${MAX_DEPTH} levels`);
      if (visited.has(next)) throw new VolumeUnreadable(`${index.what}: index block at VCN ${next} is reached twice (a sub-node cycle)`);
      visited.add(next);
      node = await this.block(index, next);
    }
  }
}
