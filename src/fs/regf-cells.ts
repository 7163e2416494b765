import { u32 } from '../gpt/le.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * The hive bins of a registry hive and the cells in them. Bins ("hbin") follow one another from
 * file offset 4096; each names its own offset and size (a multiple of 4,096) and starts with a
 * 32-byte header. Cells fill a bin: a signed 32-bit size (negative while allocated, a multiple
 * of 8, counting the size field itself) and the data. A cell never spans two bins.
 *
 * Cell offsets count from the first bin. Every offset read from the hive reaches a cell only
 * through `cell()`, which checks it against the bins, so no other code indexes by an on-disk
 * offset.
 */
export interface HiveBin {
  offset: number;
  size: number;
}

const HBIN_HEADER = 32;
/** "No cell" in offset fields. */
export const NO_CELL = 0xffffffff;

export const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

export class HiveCells {
  readonly bins: HiveBin[] = [];
  /** Bytes covered by the bins that were found, from the first bin on. */
  readonly size: number;

  /** `data`: the hive from its first bin on (file offset 4096). Oddities go into `problems`. */
  constructor(
    private readonly data: Uint8Array,
    problems: string[],
  ) {
    let at = 0;
    let stopped = false;
    while (at + HBIN_HEADER <= data.length) {
      const where = `the hive bin at ${hex(at)}`;
      const stop = (why: string): void => {
        if (at === 0) throw new VolumeUnreadable(`${where} ${why}`);
        problems.push(`${where} ${why}; the bins end there`);
        stopped = true;
      };
      if (data[at] !== 0x68 || data[at + 1] !== 0x62 || data[at + 2] !== 0x69 || data[at + 3] !== 0x6e) {
        stop('has no "hbin" signature');
        break;
      }
      const size = u32(data, at + 8);
      if (size < 4096 || size % 4096 !== 0) {
        stop(`has size ${size}, not a multiple of 4,096`);
        break;
      }
      if (at + size > data.length) {
        stop(`(${size} bytes) runs past the end of the hive data (${data.length} bytes)`);
        break;
      }
      const offset = u32(data, at + 4);
      if (offset !== at) problems.push(`${where} says it is at ${hex(offset)}`);
      this.bins.push({ offset: at, size });
      at += size;
    }
    if (this.bins.length === 0) throw new VolumeUnreadable('the hive holds no hive bin');
    if (at < data.length && !stopped) problems.push(`${data.length - at} bytes after the last hive bin hold no bin`);
    this.size = at;
  }

  /** The bin holding `offset`, by binary search. */
  private binOf(offset: number): HiveBin | undefined {
    let lo = 0;
    let hi = this.bins.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const bin = this.bins[mid]!;
      if (offset < bin.offset) hi = mid - 1;
      else if (offset >= bin.offset + bin.size) lo = mid + 1;
      else return bin;
    }
    return undefined;
  }

  /**
   * The data (after the size field) of the allocated cell at `offset`; `what` names the cell in
   * the reason when it is not one. The result is a view into the hive's bytes.
   */
  cell(offset: number, what: string): Uint8Array {
    const fail = (why: string): never => {
      throw new VolumeUnreadable(`${what}: the cell at ${hex(offset)} ${why}`);
    };
    if (offset === NO_CELL) fail('is "none" (0xFFFFFFFF)');
    if (offset % 8 !== 0) fail('is not 8-byte aligned');
    const bin = this.binOf(offset);
    if (!bin) return fail(`lies outside the hive bins (${hex(this.size)} bytes)`);
    if (offset < bin.offset + HBIN_HEADER) fail(`lies in the header of the hive bin at ${hex(bin.offset)}`);
    const end = bin.offset + bin.size;
    const raw = u32(this.data, offset) | 0;
    if (raw >= 0) fail(`is free (size ${raw}), not allocated`);
    const size = -raw;
    if (size < 8 || size % 8 !== 0) fail(`has size ${size}, not a multiple of 8`);
    if (offset + size > end) fail(`(${size} bytes) runs past its hive bin, which ends at ${hex(end)}`);
    return this.data.subarray(offset + 4, offset + size);
  }
}
