import type { BcdDevice } from '../fs/bcd.js';
import { hex32, hex8 } from '../gpt/le.js';
import { BOOTMGR_PATH, MBR_BCD_PATH, mbrPartitionOfDevice } from '../read/bcd.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { MbrPartition } from '../read/mbr-layout.js';
import type { MbrSystem, MbrVolumeFacts } from '../read/mbr-system.js';
import { MIN_ARRAY_BYTES } from '../gpt/header.js';
import type { Finding } from './finding.js';
import { minimumEspBytes } from './windows-rules.js';
import { mbrPartitionLabel, mib } from './partition-words.js';

/**
 * MBR2GPT readiness: what `mbr2gpt /validate` checks before converting a Windows system disk
 * from MBR to GPT (Microsoft's mbr-to-gpt documentation), judged from the image:
 * - at most 3 primary partitions and no extended or logical ones (the ESP needs a slot);
 * - one active partition, which is the system partition (\bootmgr, \Boot\BCD);
 * - 16 KiB + 2 sectors free before the first partition (MBR, GPT header, entries) and
 *   16 KiB + 1 sector after the last (the backup entries and header);
 * - the BCD's default entry boots an OS partition of this disk;
 * - every partition type one Windows recognises (else `/map` is needed);
 * - no BitLocker volume (mbr2gpt refuses while BitLocker protects one).
 * Only the check it cannot make offline (volume IDs of lettered volumes) is left out.
 */

const MIB = 1024 * 1024;
/** The system partition is reused as the ESP from 100 MiB (260 MiB on 4K-sector disks) up to 1 GiB. */
const ESP_REUSE_MAX = 1024 * MIB;
/** MBR types Windows assigns drive letters to (winioctl.h IsRecognizedPartition), and 0x27 (WinRE), which mbr2gpt maps to Recovery. */
const RECOGNISED_TYPES: ReadonlySet<number> = new Set([0x01, 0x04, 0x06, 0x07, 0x0b, 0x0c, 0x0e, 0x27]);
const LDM_TYPE = 0x42;

/** Windows on an MBR disk: a partition holding \bootmgr or \Boot\BCD, or a BCD whose loaders name an OS device. */
export function hasMbrWindowsEvidence(system: MbrSystem): boolean {
  if (system.volumes.some((v) => v.bootmgr || v.bcdFile)) return true;
  const bcd = system.bcd?.reading;
  return bcd?.state === 'read' && bcd.store.loaders.some((l) => l.osDevice !== undefined);
}

export function mbr2gptFindings(g: LoadedGpt, system: MbrSystem): Finding[] {
  const label = (p: MbrPartition | MbrVolumeFacts): string => mbrPartitionLabel(system, 'partition' in p ? p.partition.number : p.number);
  const reasons: string[] = [];
  const { partitions } = system.layout;
  const inLbaZero = partitions.filter((p) => p.kind !== 'logical');

  if (inLbaZero.length > 3) reasons.push(`${inLbaZero.length} partitions in the MBR: mbr2gpt converts at most 3 primary partitions, as the ESP needs a fourth`);
  for (const ext of partitions.filter((p) => p.kind === 'extended')) {
    const logical = partitions.filter((p) => p.kind === 'logical').map((p) => p.number);
    reasons.push(`partition ${ext.number} is an extended partition (type ${hex8(ext.osType)})${logical.length ? ` holding logical partition${logical.length > 1 ? 's' : ''} ${logical.join(', ')}` : ''}: mbr2gpt converts only primary partitions`);
  }
  for (const problem of system.layout.problems) reasons.push(`the extended partition cannot be read: ${problem}`);

  const system_ = systemPartition(system, reasons, label);
  reasons.push(...spaceReasons(g, inLbaZero));
  const os = osPartition(g, system, reasons, label);

  for (const p of partitions) {
    if (p.kind === 'extended') continue;
    if (p.osType === LDM_TYPE) reasons.push(`${label(p)} has type 0x42 (a dynamic disk): mbr2gpt converts only basic disks`);
    else if (!RECOGNISED_TYPES.has(p.osType)) reasons.push(`${label(p)} has type ${hex8(p.osType)}, which Windows does not recognise: mbr2gpt needs \`/map:${hex8(p.osType)}={GPT type GUID}\` for it`);
  }
  for (const v of system.volumes.filter((x) => x.filesystem === 'bitlocker')) {
    reasons.push(`${label(v)} is a BitLocker volume: mbr2gpt refuses to convert while BitLocker protects it; suspend it first (\`manage-bde -protectors -disable C:\`)`);
  }

  const esp = espPlan(g, system_, os, reasons, label);
  if (reasons.length) {
    return [{
      code: 'mbr2gpt-blocked',
      severity: 'error',
      reasons,
      message: `this Windows MBR disk cannot be converted to GPT by mbr2gpt as it is: ${reasons.join('; ')}${esp ? `. Once it can, ${esp}` : ''}`,
    }];
  }
  return [{
    code: 'mbr2gpt-ready',
    severity: 'info',
    message: `this Windows MBR disk passes what \`mbr2gpt /validate\` checks offline (${label(system_!)} is the system partition, the default entry boots ${label(os!)}): ${esp}. Convert with \`mbr2gpt /convert /disk:N\` from WinPE (add /allowFullOS from Windows), then switch the firmware to UEFI`,
  }];
}

/** The active partition, which must hold the boot manager; records a reason when there is none. */
function systemPartition(system: MbrSystem, reasons: string[], label: (p: MbrPartition | MbrVolumeFacts) => string): MbrVolumeFacts | undefined {
  const active = system.layout.partitions.filter((p) => p.active);
  if (active.length === 0) {
    const holder = system.volumes.find((v) => v.bootmgr || v.bcdFile);
    reasons.push(`no partition is marked active: mbr2gpt needs the active partition to be the system partition${holder ? ` (${label(holder)} holds the boot files; mark it active)` : ''}`);
    return undefined;
  }
  if (active.length > 1) reasons.push(`${active.length} partitions are marked active (${active.map((p) => p.number).join(', ')}): an MBR allows one`);
  const volume = system.volumes.find((v) => v.partition.number === active[0]!.number);
  if (!volume) {
    reasons.push(`the active partition ${active[0]!.number} is the extended partition, which cannot be the system partition`);
    return undefined;
  }
  if (!volume.bootmgr && !volume.bcdFile && !volume.volumeError && volume.filesystem !== 'bitlocker' && !volume.outsideImage) {
    reasons.push(`the active ${label(volume)} holds neither ${BOOTMGR_PATH} nor ${MBR_BCD_PATH}, so it is not the system partition`);
  }
  return volume;
}

/** Room for the GPT structures: 16 KiB + 2 sectors before the first partition, 16 KiB + 1 sector after the last. */
function spaceReasons(g: LoadedGpt, inLbaZero: readonly MbrPartition[]): string[] {
  const out: string[] = [];
  if (!inLbaZero.length) return out;
  const ss = g.sectorSize;
  const headSectors = Math.ceil((MIN_ARRAY_BYTES + 2 * ss) / ss);
  const tailSectors = Math.ceil((MIN_ARRAY_BYTES + ss) / ss);
  const first = inLbaZero.reduce((a, b) => (b.startLba < a.startLba ? b : a));
  if (first.startLba < headSectors) {
    out.push(`partition ${first.number} starts at LBA ${first.startLba}: mbr2gpt needs 16 KiB + 2 sectors (LBA 0 to ${headSectors - 1}) before the first partition for the MBR, the GPT header and its entries`);
  }
  const last = inLbaZero.reduce((a, b) => (b.startLba + b.sizeLba > a.startLba + a.sizeLba ? b : a));
  const after = g.totalSectors - (last.startLba + last.sizeLba);
  if (after < 0) {
    // Not a layout to shrink: the image ends inside the partition (partition-out-of-range says so).
    out.push(`partition ${last.number} runs ${-after} sectors past the end of the disk: the image is cut short or read with the wrong sector size, so what mbr2gpt would need after it cannot be judged`);
  } else if (after < tailSectors) {
    const short = tailSectors - after;
    out.push(`partition ${last.number} ends ${after} sector${after === 1 ? '' : 's'} before the end of the disk: mbr2gpt needs 16 KiB + 1 sector (${tailSectors} sectors) after the last partition for the backup GPT; shrink partition ${last.number} by ${short} sectors (${short * ss} bytes) first`);
  }
  return out;
}

/** The OS partition the BCD's default entry boots; records why there is none. */
function osPartition(g: LoadedGpt, system: MbrSystem, reasons: string[], label: (p: MbrPartition | MbrVolumeFacts) => string): MbrVolumeFacts | undefined {
  const bcd = system.bcd?.reading;
  const no = (why: string): undefined => void reasons.push(`no BCD default entry pointing at an OS partition: ${why}`);
  if (!bcd) return no(`no partition holds ${MBR_BCD_PATH}`);
  if (bcd.state === 'missing') return no(`${MBR_BCD_PATH} is missing`);
  if (bcd.state === 'unreadable') return no(`${MBR_BCD_PATH} is not a readable hive (${bcd.reason})`);
  const defaultId = bcd.store.bootManager?.defaultObject;
  if (!bcd.store.bootManager) return no('the store has no {bootmgr} object');
  if (!defaultId) return no('{bootmgr} has no default object (element 23000003)');
  const loader = bcd.store.loaders.find((l) => l.id === defaultId);
  if (!loader) return no(`the default object {${defaultId.toLowerCase()}} is not a Windows Boot Loader in the store`);
  const name = loader.description ? `"${loader.description}"` : `{${loader.id.toLowerCase()}}`;
  const device = loader.osDevice ?? loader.device;
  if (!device) return no(`the default entry ${name} has no osdevice`);
  const partition = devicePartition(g, system, device);
  const volume = partition && system.volumes.find((v) => v.partition.number === partition.number);
  if (!volume) return no(`the default entry ${name} has osdevice ${deviceText(device)}, which is no partition of this disk`);
  const unknowable = volume.volumeError !== undefined || volume.filesystem === 'bitlocker' || volume.outsideImage;
  if (!volume.windowsSystem && !unknowable) return no(`the default entry ${name} boots ${label(volume)}, which holds no \\Windows\\System32`);
  return volume;
}

function devicePartition(g: LoadedGpt, system: MbrSystem, device: BcdDevice): MbrPartition | undefined {
  if (device.kind === 'boot') return system.bcd && system.layout.partitions.find((p) => p.number === system.bcd!.partition);
  return mbrPartitionOfDevice(g, system.layout, device);
}

function deviceText(d: BcdDevice): string {
  if (d.kind === 'partition') return d.style === 'mbr' ? `partition at offset ${d.partitionOffset} of disk ${hex32(d.diskSignature)}` : `GPT partition ${d.partitionGuid}`;
  if (d.kind === 'other') return `of device type ${d.deviceType}`;
  if (d.kind === 'unreadable') return `that cannot be read (${d.reason})`;
  return d.kind;
}

/**
 * Whether mbr2gpt would reuse the system partition as the ESP (not the OS partition, 100 MiB —
 * 260 MiB on 4K-sector disks — to 1 GiB) or carve a new one from the OS partition; a carve the OS
 * partition has no room for is a reason.
 */
function espPlan(g: LoadedGpt, system: MbrVolumeFacts | undefined, os: MbrVolumeFacts | undefined, reasons: string[], label: (p: MbrPartition | MbrVolumeFacts) => string): string | undefined {
  if (!system) return undefined;
  const espSize = minimumEspBytes(g.sectorSize);
  if (system !== os && system.size >= espSize && system.size <= ESP_REUSE_MAX) {
    return `conversion would reuse ${label(system)}, ${mib(system.size)}, as the EFI system partition`;
  }
  const why = system === os ? 'it is also the OS partition' : `it is ${mib(system.size)}, outside ${mib(espSize)} to 1 GiB`;
  if (!os) return `conversion would not reuse ${label(system)} as the ESP (${why}): a new ${mib(espSize)} ESP would be carved from the OS partition`;
  if (os.freeBytes !== undefined && os.freeBytesExact && os.freeBytes < espSize) {
    reasons.push(`mbr2gpt would carve a new ${mib(espSize)} ESP from ${label(os)} (${label(system)} is not reused: ${why}), but it has only ${mib(os.freeBytes)} free`);
    return undefined;
  }
  return `conversion would not reuse ${label(system)} as the ESP (${why}): a new ${mib(espSize)} ESP would be carved from the end of ${label(os)}`;
}
