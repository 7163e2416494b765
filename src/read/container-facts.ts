import type { SourceFormat } from '../disk/block-source.js';
import { decodeVhdFooter } from '../disk/vhd.js';
import type { LoadedGpt } from './load-gpt.js';

/**
 * What a cloud import judges of the file that holds the disk, as opposed to the disk inside it:
 * its format and subformat, whether it is compressed, and for a VHD how long the file is. Read from
 * the source's containerInfo (disk/ readers), plus one probe for a VHD footer that is not at the end.
 */
export interface ContainerFacts {
  /** The format of the disk's container; for a compressed image, of the file inside the compression. */
  format: SourceFormat;
  /**
   * VHD: `fixed`, `dynamic` or `differencing`; VMDK: its descriptor's createType
   * (`streamOptimized`, `monolithicSparse`, …); VHDX: `differencing` when it has a parent.
   */
  subformat?: string;
  /** `gzip`, `xz` or `zstd` when the file is compressed: no cloud takes the compressed file. */
  compression?: string;
  /** The virtual disk's size in bytes. */
  virtualSize: number;
  /** A differencing disk or snapshot, read through its parent. */
  hasParent: boolean;
  /** VHD: the length of the (decompressed) file, footer included. */
  fileSize?: number;
  /**
   * VHD: the Current Size is the CHS geometry's product, as qemu-img writes it without force_size
   * (rounding the size it was given to cylinders × heads × sectors).
   */
  sizeFromGeometry?: boolean;
  /**
   * A raw image that holds a valid VHD footer where its GPT says the disk ends: a fixed VHD with
   * `fileSize - offset - 512` bytes written after its footer (so its last 512 bytes are no footer,
   * and every reader, Azure's too, takes it for a raw disk).
   */
  footerInside?: { offset: number; currentSize: number; diskType: number };
}

/** The container facts of a loaded disk. Reads one sector at most (the footer probe of a raw image). */
export async function readContainerFacts(g: LoadedGpt): Promise<ContainerFacts> {
  const source = g.source;
  const info = source.containerInfo ?? {};
  const text = (key: string): string | undefined => (typeof info[key] === 'string' ? (info[key] as string) : undefined);
  const subformat = text('type') ?? text('createType') ?? (text('parent') !== undefined ? 'differencing' : undefined);
  const facts: ContainerFacts = {
    format: source.format,
    virtualSize: source.size,
    hasParent: text('parent') !== undefined,
    ...(subformat !== undefined ? { subformat } : {}),
    ...(text('compression') !== undefined ? { compression: text('compression')! } : {}),
    ...(typeof info.fileSize === 'number' ? { fileSize: info.fileSize } : {}),
    ...(typeof info.chsSize === 'number' ? { sizeFromGeometry: info.chsSize === info.currentSize } : {}),
  };
  if (source.format === 'raw') {
    const inside = await footerInside(g);
    if (inside) facts.footerInside = inside;
  }
  return facts;
}

/**
 * A fixed VHD whose file grew after its footer (a copy tool that rounds up, `truncate -s`, a
 * partial overwrite) is no longer a VHD to any reader: the footer must be the last 512 bytes. The
 * GPT still says where the disk ended, so the sector after its backup header is where the footer
 * would be.
 */
async function footerInside(g: LoadedGpt): Promise<ContainerFacts['footerInside']> {
  const primary = g.primary.headerValid ? g.primary.header : undefined;
  if (!primary) return undefined;
  const offset = (primary.alternateLba + 1) * g.sectorSize;
  if (offset + 512 > g.source.size || offset < 512) return undefined;
  const footer = decodeVhdFooter(await g.source.read(offset, 512));
  if (!footer.cookieOk || !footer.checksumOk || footer.diskType !== 2 || footer.currentSize !== offset) return undefined;
  return { offset, currentSize: footer.currentSize, diskType: footer.diskType };
}
