import { SHOWN_OTHERS } from '../scan/collision-findings.js';
import type { CollisionGroup, CollisionKind } from '../scan/identity-collisions.js';

const WHAT: Record<CollisionKind, string> = { 'disk-guid': 'disk GUID', 'mbr-signature': 'MBR disk signature', 'partition-guid': 'partition GUID' };

/**
 * The text form of `scan`'s collisions, printed after the last image's line: one line per shared
 * value, naming its first images (the JSON lines carry each image's own findings).
 */
export function collisionSection(groups: readonly CollisionGroup[], paths: readonly string[]): string {
  const lines = ['Identity collisions (warnings: Windows takes all but one of the disks that share an identity offline):'];
  for (const g of groups) {
    const shown = g.members.slice(0, SHOWN_OTHERS).map((m) => (m.partition !== undefined ? `${paths[m.image]} (partition ${m.partition})` : paths[m.image]!));
    const more = g.members.length - shown.length;
    const code = g.kind === 'partition-guid' ? 'partition-guid-collision' : 'disk-guid-collision';
    lines.push(`  ${WHAT[g.kind]} ${g.value} [${code}]: ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
  }
  return lines.join('\n');
}

/** For the summary: per kind of identity, how many values are shared and by how many images. */
export type CollisionTally = Array<{ what: string; groups: number; images: number }>;

export function collisionTally(groups: readonly CollisionGroup[]): CollisionTally {
  const tally: CollisionTally = [];
  for (const kind of ['disk-guid', 'mbr-signature', 'partition-guid'] as const) {
    const ofKind = groups.filter((g) => g.kind === kind);
    if (!ofKind.length) continue;
    const images = new Set(ofKind.flatMap((g) => g.members.map((m) => m.image)));
    tally.push({ what: WHAT[kind], groups: ofKind.length, images: images.size });
  }
  return tally;
}
