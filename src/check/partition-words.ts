import type { MbrSystem } from '../read/mbr-system.js';
import type { GptEntry } from '../gpt/entries.js';
import { TYPE_GUIDS, typeByGuid } from '../gpt/partition-types.js';

/** How findings name partitions, sizes and types: defined once for every rule. */

const MIB = 1024 * 1024;

/** "partition 3 ("name")". */
export function partitionLabel(e: GptEntry): string {
  return `partition ${e.index}${e.name ? ` ("${e.name}")` : ''}`;
}

/** "100 MiB", "99.5 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;
}

/** A type by its name ("Basic data", "Linux filesystem"), never as a bare GUID. */
export function typeText(e: GptEntry): string {
  const type = typeByGuid(e.typeGuid);
  return type ? (e.typeGuid === TYPE_GUIDS.BASIC_DATA ? 'Basic data' : type.name) : `an unknown type (${e.typeGuid})`;
}

/** "partition 1 (active, NTFS "System Reserved")": how the MBR rules name a partition. */
export function mbrPartitionLabel(system: MbrSystem, number: number): string {
  const v = system.volumes.find((x) => x.partition.number === number);
  const words = [
    ...(v?.partition.kind === 'logical' ? ['logical'] : []),
    ...(v?.partition.active ? ['active'] : []),
    ...(v?.filesystem && v.filesystem !== 'unknown' && v.filesystem !== 'zeroed' ? [`${v.filesystem === 'bitlocker' ? 'BitLocker' : v.filesystem.toUpperCase()}${v.label ? ` "${v.label}"` : ''}`] : []),
  ];
  return `partition ${number}${words.length ? ` (${words.join(', ')})` : ''}`;
}
