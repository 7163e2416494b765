import { existsSync } from 'node:fs';
import { differencingChildren } from '../disk/children.js';
import { whyNotInPlace } from '../disk/in-place.js';
import { isHttpUrl, urlFileName } from '../disk/url-redact.js';
import { arraySectors } from '../gpt/header.js';
import type { LoadedGpt } from '../read/load-gpt.js';

/**
 * Where fix lines write: undefined when the disk takes its table writes in place, else the name
 * of a repaired raw copy (`--output`) that does not exist yet.
 */
export async function copyTarget(g: LoadedGpt, diskArg: string): Promise<string | undefined> {
  const where = await fixPlace(g);
  if (where === 'copy') return copyName(diskArg);
  if (where === 'in-place-unless-parent' && (await differencingChildren(diskArg)).length) return copyName(diskArg);
  return undefined;
}

/** Where a disk's fixes write, as far as the open disk tells (fixPlace). */
export type FixPlace = 'in-place' | 'copy' | 'in-place-unless-parent';

/**
 * What the open disk says of where fixes write, without looking beside it: `copy` when it cannot
 * take them in place; `in-place-unless-parent` for a VHD/VHDX, which the write commands refuse
 * when differencing disks beside it name it their parent (writing it would break them: a
 * directory search, which scan leaves to the images whose fix lines it prints). The ranges
 * asked about are the ones any fix writes: LBA 0 through the primary array, the backup area at
 * the disk's real end, and the backup where it sits now (repair zeroes a stale one).
 */
export async function fixPlace(g: LoadedGpt): Promise<FixPlace> {
  if (g.source.format === 'device') return 'in-place';
  const ss = g.sectorSize;
  const header = g.primary.header ?? g.backup.header;
  const sectors = header && header.entrySize >= 128 && header.entryCount > 0 && header.entryCount * header.entrySize <= 4 * 1024 * 1024
    ? arraySectors(header.entryCount, header.entrySize, ss)
    : arraySectors(128, 128, ss);
  const ranges: Array<[number, number]> = [
    [0, Math.min(g.source.size, (2 + sectors) * ss)],
    [Math.max(0, g.lastLba - sectors) * ss, (sectors + 1) * ss],
  ];
  if (g.backup.headerValid && g.backup.lba !== g.lastLba) ranges.push([g.backup.lba * ss, ss]);
  if ((await whyNotInPlace(g.source, ranges.filter(([offset, length]) => offset + length <= g.source.size))) !== undefined) return 'copy';
  return g.source.format === 'vhd' || g.source.format === 'vhdx' ? 'in-place-unless-parent' : 'in-place';
}

/**
 * `disk.img.gz` → `disk-fixed.img`, `vm.qcow2` → `vm-fixed.img`; `-2`, `-3`… when taken. A URL's
 * copy is a local file named after the last part of its path (`https://host/vms/disk.vhd?sig=…` →
 * `disk-fixed.img` here): `--output` writes only local files.
 */
export function copyName(diskArg: string, exists: (path: string) => boolean = existsSync): string {
  const stem = (isHttpUrl(diskArg) ? urlFileName(diskArg) : diskArg)
    .replace(/\.(gz|gzip|xz|zst|zstd|bz2)$/i, '')
    .replace(/\.(img|raw|bin|dd|iso|vhdx?|avhdx?|qcow2?|vmdk)$/i, '');
  for (let n = 1; ; n++) {
    const name = `${stem}-fixed${n > 1 ? `-${n}` : ''}.img`;
    if (!exists(name)) return name;
  }
}
