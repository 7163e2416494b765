/**
 * Identities shared across the images of one scan: copied VM disks keep the disk GUID (or MBR disk
 * signature) and the partition GUIDs of their original, and Windows takes the second such disk
 * offline ("signature collision"). A collision with a later image is known only when that image
 * is scanned, so the store keeps, for every image, only what it is known by: a few strings and
 * integers, never a report. Pure: no I/O, and image numbers are the caller's (the scan's order).
 */

import { ZERO_GUID } from '../gpt/guid.js';

/** What one image is known by. */
export interface ImageIdentity {
  /** The GPT disk GUID. */
  diskGuid?: string;
  /** The MBR disk signature ("0x…"), for a disk Windows reads as MBR. */
  mbrSignature?: string;
  /** Unique partition GUIDs with the 1-based entry index holding each. */
  partitions: ReadonlyArray<{ index: number; guid: string }>;
}

export type CollisionKind = 'disk-guid' | 'mbr-signature' | 'partition-guid';

export interface CollisionGroup {
  kind: CollisionKind;
  /** The GUID or signature the members share. */
  value: string;
  /** Two or more images, in the order they were added; `partition` for partition-guid groups. */
  members: Array<{ image: number; partition?: number }>;
}

/**
 * The partition GUIDs kept per image: as many as a standard 16 KiB array has entries. A hostile
 * 32,768-entry table must not make one image cost what 8,000 ordinary ones do.
 */
export const MAX_PARTITION_GUIDS_PER_IMAGE = 128;

/**
 * A member is one number: image × 2^20 + entry index (an index fits in 20 bits, since an array
 * of at most 64 MiB holds at most 2^19 entries). Exact up to 2^33 images.
 */
const PARTITION_SPAN = 2 ** 20;
const encode = (image: number, partition = 0): number => image * PARTITION_SPAN + partition;
const decode = (member: number): { image: number; partition: number } => ({ image: Math.floor(member / PARTITION_SPAN), partition: member % PARTITION_SPAN });

/** Most values are held by one image: a bare number until a second image shares it. */
type Members = number | number[];

export class IdentityCollisions {
  private readonly maps: Record<CollisionKind, Map<string, Members>> = { 'disk-guid': new Map(), 'mbr-signature': new Map(), 'partition-guid': new Map() };
  private memberCount = 0;

  /**
   * Records an image's identity. A partition GUID the image holds twice is recorded once, with
   * its first entry: within one image that is `partition-guid-duplicate`, not a collision.
   */
  add(image: number, identity: ImageIdentity): void {
    if (identity.diskGuid) this.put('disk-guid', identity.diskGuid, encode(image));
    if (identity.mbrSignature) this.put('mbr-signature', identity.mbrSignature, encode(image));
    const seen = new Set<string>();
    for (const { index, guid } of identity.partitions) {
      if (seen.size >= MAX_PARTITION_GUIDS_PER_IMAGE) break;
      if (seen.has(guid) || guid === ZERO_GUID) continue; // the zero GUID identifies nothing
      seen.add(guid);
      this.put('partition-guid', guid, encode(image, index));
    }
  }

  /** What the store holds: distinct values, and (image, value) memberships. Grows by a few per image. */
  get size(): { values: number; members: number } {
    const values = this.maps['disk-guid'].size + this.maps['mbr-signature'].size + this.maps['partition-guid'].size;
    return { values, members: this.memberCount };
  }

  /** Every value held by two or more images: disk GUIDs, then MBR signatures, then partition GUIDs, each in first-seen order. */
  *groups(): Generator<CollisionGroup> {
    for (const kind of ['disk-guid', 'mbr-signature', 'partition-guid'] as const) {
      for (const [value, members] of this.maps[kind]) {
        if (typeof members === 'number') continue;
        yield { kind, value, members: members.map((m) => (kind === 'partition-guid' ? decode(m) : { image: decode(m).image })) };
      }
    }
  }

  private put(kind: CollisionKind, value: string, member: number): void {
    const map = this.maps[kind];
    const held = map.get(value);
    this.memberCount++;
    if (held === undefined) map.set(value, member);
    else if (typeof held === 'number') map.set(value, [held, member]);
    else held.push(member);
  }
}
