import { copyName } from '../check/fix-target.js';
import { shellQuote, type Finding } from '../check/finding.js';
import type { CollisionGroup } from './identity-collisions.js';

/** How many other images a collision names; the rest are counted. */
export const SHOWN_OTHERS = 5;

/** A finding about an identity shared across the images of a scan (README: Finding codes). */
export interface CollisionFinding extends Finding {
  code: 'disk-guid-collision' | 'partition-guid-collision';
  severity: 'warning';
  /** The disk GUID, MBR disk signature or partition GUID shared. */
  shared: string;
  /** The first SHOWN_OTHERS other images sharing it, with the partition holding a partition GUID. */
  sharedWith: Array<{ path: string; partition?: number }>;
  /** How many other images share it in all. */
  sharedWithCount: number;
}

/**
 * Where a fix line writes for an image: in place (undefined), or `--output` into a repaired copy
 * for one that cannot take writes in place (compressed, qcow2, VMDK), as check's fix lines do.
 */
export type FixTarget = (image: number) => 'in-place' | 'copy';

/**
 * The images in any group, each with its collision findings, in image order. Memory follows the
 * groups (the images involved), and each finding names at most SHOWN_OTHERS others, so a scan of
 * 100,000 copies of one disk prints 100,000 short findings, not 10^10 names. Every member but the
 * first (in scan order) gets the fix line: running them all leaves each identity on one image.
 */
export function* collisionFindings(groups: Iterable<CollisionGroup>, pathOf: (image: number) => string, target: FixTarget = () => 'in-place'): Generator<{ image: number; path: string; findings: CollisionFinding[] }> {
  const all = [...groups];
  // image → (group, position in its members) pairs, flat: positions, not searches, for groups of 100,000
  const byImage = new Map<number, number[]>();
  all.forEach((group, g) => {
    group.members.forEach(({ image }, position) => {
      const list = byImage.get(image);
      if (list) list.push(g, position);
      else byImage.set(image, [g, position]);
    });
  });
  for (const image of [...byImage.keys()].sort((a, b) => a - b)) {
    const path = pathOf(image);
    const pairs = byImage.get(image)!;
    const findings: CollisionFinding[] = [];
    for (let i = 0; i < pairs.length; i += 2) findings.push(finding(all[pairs[i]!]!, pairs[i + 1]!, path, pathOf, target));
    yield { image, path, findings };
  }
}

function finding(group: CollisionGroup, position: number, path: string, pathOf: (image: number) => string, target: FixTarget): CollisionFinding {
  const self = group.members[position]!;
  const image = self.image;
  // The first image keeps the identity; the fix lines go on the others.
  const keeps = position === 0;
  const fixLine = (args: string): { fix: string } | Record<string, never> =>
    keeps ? {} : { fix: `gptdoctor set ${shellQuote(path)} ${args}${target(image) === 'copy' ? ` --output ${shellQuote(copyName(path))}` : ''}` };
  const first = keeps ? ' This image was scanned first: it keeps it, and the fix lines are on the others.' : '';
  // Only the first few others are named, so only the first few members are looked at.
  const others = group.members.slice(0, SHOWN_OTHERS + 1).filter((m) => m.image !== image).slice(0, SHOWN_OTHERS);
  const sharedWith = others.map((m) => ({ path: pathOf(m.image), ...(m.partition !== undefined ? { partition: m.partition } : {}) }));
  const sharedWithCount = group.members.length - 1;
  const more = sharedWithCount - sharedWith.length;
  const names = sharedWith.map((o) => (o.partition !== undefined ? `${o.path} (partition ${o.partition})` : o.path));
  const list = more > 0 ? `${names.join(', ')} and ${more} more` : names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]!;
  const offline = 'Windows takes all but one of the disks that share it offline ("signature collision"), so copies of one VM disk cannot be attached together';
  const about = { shared: group.value, sharedWith, sharedWithCount };
  if (group.kind === 'disk-guid') {
    const message = `the disk GUID ${group.value} is also that of ${list}: ${offline}. Give the copy new disk and partition GUIDs (gptdoctor set ${shellQuote(path)} --new-guids, or sgdisk -G), then run bcdboot on a Windows copy (its BCD names the old partition GUIDs).${first}`;
    return { code: 'disk-guid-collision', severity: 'warning', message, ...about, ...fixLine('--new-guids') };
  }
  if (group.kind === 'mbr-signature') {
    // gptdoctor writes GPTs, not MBR signatures: no fix line, the message says what does it.
    const message = `the MBR disk signature ${group.value} is also that of ${list}: ${offline}. Give the copy a new signature (sfdisk --disk-id DISK 0xNEW, or bring it online in Disk Management, which writes one), then run bcdboot on a Windows copy (its BCD names the disk by signature)`;
    return { code: 'disk-guid-collision', severity: 'warning', message, ...about };
  }
  const partition = self.partition!;
  const message = `partition ${partition}'s unique GUID ${group.value} is also that of ${list}: ${offline}, and /dev/disk/by-partuuid can name only one of them. Give the copy's partition a new GUID (gptdoctor set ${shellQuote(path)} ${partition} --guid random, or gptdoctor set ${shellQuote(path)} --new-guids for the disk and every partition), then run bcdboot on a Windows copy (BCD and firmware boot entries name the old GUID).${first}`;
  return { code: 'partition-guid-collision', severity: 'warning', message, partition, ...about, ...fixLine(`${partition} --guid random`) };
}
