import type { ContainerFacts } from '../read/container-facts.js';
import { isHttpUrl, urlFileName } from '../disk/url-redact.js';
import { shellQuote, type CloudTarget, type Finding } from './finding.js';

/**
 * Cloud import pre-flight (`check --target azure|aws`): what Azure's VHD upload and AWS VM
 * Import/Export refuse or need, judged from facts gathered beforehand (cloud-facts.ts). Pure: the
 * same facts give the same findings. Commands for the user are in the messages, not in `fix`,
 * which is reserved for gptdoctor command lines.
 *
 * Sources, by the names they carry in Microsoft's and Amazon's documentation:
 * - Azure: "About VHDs in Azure" (fixed VHD only, no VHDX, no dynamic VHD); the Add-AzVhd
 *   reference (a .vhd of N × 1 MiB + 512 bytes); DiskCreationData.UploadSizeBytes (20 MiB + 512
 *   to 32 TiB + 512); "Azure managed disk types" (the largest disk, 32,767 GiB); "Introduction to
 *   Azure managed disks" (an OS disk holds at most 4,095 GiB, and MBR limits it to 2 TiB);
 *   "Support for generation 2 VMs on Azure" (Generation 1 boots by BIOS, Generation 2 by UEFI).
 * - AWS: VM Import/Export User Guide, "System requirements" (image formats: OVA, stream-optimized
 *   ESX VMDK, fixed and dynamic VHD/VHDX, raw) and "Limitations for resources being imported"
 *   (dual-boot configurations and encrypted volumes are not supported); the EC2 ImportImage
 *   reference (`--boot-mode legacy-bios | uefi`; uefi-preferred is refused); "Amazon EBS volume
 *   types" (16 TiB for gp2, gp3, io1, st1 and sc1 volumes).
 */

export interface CloudPartition {
  /** The partition's number, as check names it (GPT slot, or MBR partition number). */
  partition: number;
  /** How messages name it: `partition 3 ("Basic data partition")`. */
  label: string;
}

export interface InstalledSystem extends CloudPartition {
  os: 'Windows' | 'Linux';
  /** What shows it, in words: `\Windows\System32 on NTFS`, `typed Linux x86-64 root (/)`. */
  evidence: string;
}

/** Everything the cloud rules judge, read once from the disk (cloud-facts.ts). */
export interface CloudFacts {
  container: ContainerFacts;
  /** The table the partitions come from: a GPT, an MBR disk's table, or none. */
  table: 'gpt' | 'mbr' | 'none';
  /** A GPT disk whose LBA 0 also lists partitions. */
  hybridMbr: boolean;
  /** GPT: the FAT partitions UEFI firmware would boot from (typed ESP, or holding \EFI\…\*.efi). */
  esps: CloudPartition[];
  /** GPT: a BIOS boot partition, where GRUB keeps its core image to boot a GPT disk by BIOS. */
  biosBoot?: CloudPartition;
  /** MBR: the partition marked active (0x80), which BIOS boot code starts. */
  active?: CloudPartition;
  /** LBA 0 holds GRUB's boot code, which boots without an active partition. */
  grubBootCode: boolean;
  systems: InstalledSystem[];
  encrypted: Array<CloudPartition & { kind: 'bitlocker' | 'luks' }>;
  /** MBR: mbr2gpt would convert the disk (the mbr2gpt-ready finding). */
  mbr2gptReady: boolean;
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;
/** Azure's managed-disk upload: UploadSizeBytes is at least 20 MiB + the 512-byte footer. */
export const AZURE_UPLOAD_MIN = 20 * MIB;
/** The largest Azure managed disk ("Azure managed disk types"). */
export const AZURE_DISK_MAX = 32_767 * GIB;
/** The largest Azure OS disk ("Introduction to Azure managed disks"). */
export const AZURE_OS_DISK_MAX = 4_095 * GIB;
/** What an MBR addresses with 32-bit LBAs of 512-byte sectors; the rest of a larger disk is unusable. */
export const MBR_ADDRESSABLE = 2 * TIB;
/** The largest gp2, gp3, io1, st1 or sc1 EBS volume ("Amazon EBS volume types"). */
export const EBS_VOLUME_MAX = 16 * TIB;

export function cloudFindings(target: CloudTarget, facts: CloudFacts, disk: string): Finding[] {
  // The conversion commands need a file: for an image read over HTTP(S), a local copy of it.
  const local = isHttpUrl(disk) ? urlFileName(disk) : disk;
  const findings = target === 'azure' ? azureFindings(facts, local) : awsFindings(facts, local);
  if (local !== disk) {
    for (const f of findings) if (f.message.includes(local)) f.message += ` (the commands work on a downloaded copy: curl -o ${shellQuote(local)} 'URL')`;
  }
  return findings;
}

// --- Azure -----------------------------------------------------------------------------------

export function azureFindings(facts: CloudFacts, disk: string): Finding[] {
  const out: Finding[] = [];
  const c = facts.container;
  const fixedVhd = c.format === 'vhd' && c.subformat === 'fixed';
  if (c.footerInside) out.push(footerInsideFinding(c, disk));
  else if (!fixedVhd || c.compression) out.push({ code: 'azure-format', severity: 'error', message: azureFormatMessage(c, disk) });
  if (fixedVhd && c.fileSize !== undefined && c.fileSize !== c.virtualSize + 512) {
    out.push({
      code: 'azure-file-size',
      severity: 'error',
      message: `the fixed VHD file is ${bytes(c.fileSize)}, but a fixed VHD of Current Size ${bytes(c.virtualSize)} must be exactly that plus its 512-byte footer (${bytes(c.virtualSize + 512)}): Azure rejects any other length. Write a clean copy: ${convert(c, disk, 'vpc', azureOut(disk))}`,
    });
  }
  // A fixed VHD read as raw because bytes follow its footer: its own Current Size is the size to judge.
  const size = c.footerInside?.currentSize ?? c.virtualSize;
  if (size % MIB !== 0) out.push(unalignedFinding(facts, disk));
  out.push(...azureSizeLimits(facts, size));
  out.push({ code: 'azure-generation', severity: 'info', message: generationMessage(facts) });
  return out;
}

function azureFormatMessage(c: ContainerFacts, disk: string): string {
  const out = azureOut(disk);
  if (c.compression) {
    const inner = c.format === 'vhd' && c.subformat === 'fixed' ? 'a fixed VHD inside, which is what Azure takes: upload the decompressed file' : `${formatWords(c)} inside, which Azure does not take either: decompress it, then ${convert(c, decompressedName(disk), 'vpc', out)}`;
    return `the file is ${c.compression}-compressed, and Azure uploads the .vhd file itself, byte for byte; decompress it (${decompress(c.compression, disk)}). It holds ${inner}`;
  }
  const why = c.format === 'vhd' ? `a ${c.subformat ?? 'VHD'} VHD, and Azure takes only fixed VHDs${c.subformat === 'dynamic' ? ' (Add-AzVhd converts a dynamic one as it uploads; a direct upload with AzCopy does not)' : ''}` : `${formatWords(c)}, and Azure takes only fixed VHDs (not VHDX, not dynamic VHD)`;
  const hyperV = c.format === 'vhd' || c.format === 'vhdx' ? `, or on Hyper-V: Convert-VHD -Path ${shellQuote(disk)} -DestinationPath ${shellQuote(out)} -VHDType Fixed` : '';
  return `this is ${why}. Convert it (force_size keeps the virtual size exact): ${convert(c, disk, 'vpc', out)}${hyperV}`;
}

/** A raw image holding a fixed VHD's footer where its GPT ends: bytes were added after the footer. */
function footerInsideFinding(c: ContainerFacts, disk: string): Finding {
  const inside = c.footerInside!;
  const extra = c.virtualSize - inside.offset - 512;
  return {
    code: 'azure-file-size',
    severity: 'error',
    message: `this file is a fixed VHD of ${bytes(inside.currentSize)} with ${bytes(extra)} written after its footer (at byte ${inside.offset}): a VHD's footer must be its last 512 bytes, so Azure (and gptdoctor) read it as a raw disk and refuse it. Cut the file back to its footer: truncate -s ${inside.offset + 512} ${shellQuote(disk)} (not \`gptdoctor repair\`, which would fit the GPT to the longer file)`,
  };
}

function unalignedFinding(facts: CloudFacts, disk: string): Finding {
  const c = facts.container;
  const up = Math.ceil(c.virtualSize / MIB) * MIB;
  const raw = c.format === 'raw' && !c.compression ? disk : rawName(disk);
  const steps = [
    ...(raw === disk ? [] : [`${convertToRaw(c, disk)}`]),
    `qemu-img resize -f raw ${shellQuote(raw)} ${up}`,
    ...(facts.table === 'gpt' ? [`gptdoctor repair --yes ${shellQuote(raw)} (the backup GPT moves to the new end)`] : []),
    `qemu-img convert -f raw -O vpc -o subformat=fixed,force_size ${shellQuote(raw)} ${shellQuote(azureOut(disk))}`,
  ];
  return {
    code: 'azure-size-unaligned',
    severity: 'error',
    message: `the virtual size is ${bytes(c.virtualSize)}, ${bytes(c.virtualSize % MIB)} past a whole number of MiB: Azure takes only sizes of N × 1 MiB (a file of N × 1 MiB + 512 bytes) and rejects the upload${c.sizeFromGeometry ? ' (this VHD\'s size is its CHS geometry\'s, as qemu-img makes it without -o force_size)' : ''}. Grow it to ${up / MIB} MiB: ${steps.join('; ')}`,
  };
}

function azureSizeLimits(facts: CloudFacts, size: number): Finding[] {
  const bootable = facts.systems.length > 0 || facts.esps.length > 0 || facts.active !== undefined || facts.biosBoot !== undefined;
  const limit = (severity: Finding['severity'], message: string): Finding => ({ code: 'azure-size-limit', severity, message });
  if (size < AZURE_UPLOAD_MIN) return [limit('error', `the disk is ${bytes(size)}; an Azure managed disk upload takes 20 MiB at least (UploadSizeBytes from 20,972,032, footer included): grow it to 20 MiB or more`)];
  if (size > AZURE_DISK_MAX) return [limit('error', `the disk is ${gib(size)}; the largest Azure managed disk is 32,767 GiB`)];
  const out: Finding[] = [];
  if (size > AZURE_OS_DISK_MAX && bootable) out.push(limit('warning', `the disk is ${gib(size)}: an Azure OS disk holds at most 4,095 GiB, so this image can be attached only as a data disk`));
  if (size > MBR_ADDRESSABLE && facts.table === 'mbr') out.push(limit('warning', `the disk is ${gib(size)} and MBR-partitioned: an MBR addresses only the first 2 TiB, so the rest is unusable (a Generation 1 OS disk is MBR); convert to GPT to use it all`));
  return out;
}

/** Which Azure VM generation can boot the disk: Generation 1 boots by BIOS from MBR, Generation 2 by UEFI from GPT. */
function generationMessage(facts: CloudFacts): string {
  const v2 = 'create the disk or image with --hyper-v-generation V2 (az disk create, az image create; Add-AzVhd -DiskHyperVGeneration V2)';
  if (facts.table === 'gpt') {
    const esp = facts.esps[0];
    const hybrid = facts.hybridMbr ? '. LBA 0 holds a hybrid MBR, which Generation 1 BIOS boot code may follow instead of the GPT' : '';
    if (esp && facts.biosBoot) return `Generation 1 or 2: a GPT disk with an ESP (${esp.label}) for UEFI and a BIOS boot partition (${facts.biosBoot.label}) for GRUB's BIOS path; for Generation 2, ${v2}${hybrid}`;
    if (esp) return `Generation 2 only: a GPT disk that boots by UEFI from its ESP (${esp.label}); Generation 1 VMs boot by BIOS from MBR disks. ${cap(v2)}${hybrid}`;
    if (facts.biosBoot) return `Generation 1 only: a GPT disk without an ESP that GRUB boots by BIOS from its BIOS boot partition (${facts.biosBoot.label})${hybrid}`;
    return `no generation can boot it: a GPT disk with neither an ESP (Generation 2, UEFI) nor a BIOS boot partition (Generation 1); it can be a data disk${hybrid}`;
  }
  if (facts.table === 'mbr') {
    const from = facts.active ? `its active partition (${facts.active.label})` : facts.grubBootCode ? 'GRUB\'s boot code in LBA 0' : undefined;
    if (!from) return 'no generation can boot it: an MBR disk with no active partition and no boot code that needs none; it can be a data disk (or mark the boot partition active)';
    const windows = facts.systems.some((s) => s.os === 'Windows');
    const toGpt = facts.mbr2gptReady ? 'mbr2gpt /convert would convert it (see mbr2gpt-ready), after which it is Generation 2 only' : windows ? 'convert it with mbr2gpt first (see mbr2gpt-blocked for what stops it)' : 'convert it to GPT with an ESP and a UEFI boot loader first';
    return `Generation 1 only: an MBR disk that BIOS boots from ${from}. For Generation 2, ${toGpt}`;
  }
  return 'no generation can boot it: the disk has no partition table; it can be a data disk';
}

// --- AWS -------------------------------------------------------------------------------------

export function awsFindings(facts: CloudFacts, disk: string): Finding[] {
  const out: Finding[] = [];
  const format = awsFormatMessage(facts.container, disk);
  if (format) out.push({ code: 'aws-format', severity: 'error', message: format });
  for (const e of facts.encrypted) {
    const decrypt = e.kind === 'bitlocker' ? 'turn BitLocker off in the VM first (manage-bde -off C:, or Disable-BitLocker) and wait until it reports Fully Decrypted' : 'decrypt it first (cryptsetup reencrypt --decrypt, for LUKS2), or copy its files to an unencrypted volume';
    out.push({ code: 'aws-encrypted', severity: 'error', partition: e.partition, message: `${e.label} holds a ${e.kind === 'bitlocker' ? 'BitLocker (-FVE-FS-)' : 'LUKS'} volume: VM Import/Export does not import VMs with encrypted volumes; ${decrypt}` });
  }
  if (facts.systems.length > 1) {
    const list = facts.systems.map((s) => `${s.os} on ${s.label}: ${s.evidence}`).join('; ');
    out.push({ code: 'aws-dual-boot', severity: 'error', message: `${facts.systems.length} operating systems on one disk: ${list}. VM Import/Export does not import dual-boot configurations: import a disk that holds one of them (remove the other's partitions from a copy, or move them to a second disk)` });
  }
  const size = facts.container.virtualSize;
  if (size > EBS_VOLUME_MAX) out.push({ code: 'aws-size-limit', severity: 'warning', message: `the disk is ${gib(size)}: gp2, gp3, io1, st1 and sc1 EBS volumes hold at most 16 TiB (io2 Block Express 64 TiB), so the imported snapshot fits no common volume` });
  if (size > MBR_ADDRESSABLE && facts.table === 'mbr') out.push({ code: 'aws-size-limit', severity: 'warning', message: `the disk is ${gib(size)} and MBR-partitioned: an MBR addresses only the first 2 TiB, and an instance booted from it can use no more` });
  out.push(bootModeFinding(facts));
  return out;
}

/** VM Import/Export's formats: raw, fixed or dynamic VHD and VHDX, stream-optimized VMDK (and OVA, which is an archive of those). */
function awsFormatMessage(c: ContainerFacts, disk: string): string | undefined {
  const vmdkOut = `${stem(disk)}-aws.vmdk`;
  if (c.compression) {
    const inner = awsFormatMessage(uncompressed(c), decompressedName(disk));
    return `the file is ${c.compression}-compressed, and VM Import/Export reads the image itself from S3; decompress it (${decompress(c.compression, disk)})${inner ? `. Inside, ${inner}` : `: it holds ${formatWords(c)}, which VM Import/Export takes`}`;
  }
  const differencing = c.subformat === 'differencing' || (c.format === 'vmdk' && c.hasParent);
  if (differencing) return `this is a differencing ${c.format === 'vmdk' ? 'VMDK snapshot' : c.format.toUpperCase()}, and VM Import/Export takes a whole disk (fixed or dynamic VHD/VHDX, stream-optimized VMDK, raw): merge the chain into one image: ${convert(c, disk, 'vmdk', vmdkOut, 'streamOptimized')}`;
  if (c.format === 'raw' || c.format === 'memory' || c.format === 'vhd' || c.format === 'vhdx') return undefined;
  if (c.format === 'vmdk' && c.subformat === 'streamOptimized') return undefined;
  const what = c.format === 'vmdk' ? `a ${c.subformat ?? 'hosted'} VMDK, and VM Import/Export takes VMDKs only stream-optimized (as ESX exports them)` : `${formatWords(c)}, which VM Import/Export does not take (raw, VHD/VHDX, stream-optimized VMDK or OVA)`;
  return `this is ${what}: ${convert(c, disk, 'vmdk', vmdkOut, 'streamOptimized')}`;
}

/** The boot mode VM Import/Export gives the instance: UEFI for a GPT disk with an ESP, Legacy BIOS for an MBR disk. */
function bootModeFinding(facts: CloudFacts): Finding {
  const info = (message: string): Finding => ({ code: 'aws-boot-mode', severity: 'info', message });
  const none = (why: string): Finding => ({ code: 'aws-boot-mode', severity: 'warning', message: `${why}: VM Import/Export finds nothing to boot, so import-image fails for it; import it as a data volume with aws ec2 import-snapshot` });
  if (facts.table === 'gpt') {
    const esp = facts.esps[0];
    if (esp && facts.biosBoot) return info(`uefi or legacy-bios: a GPT disk with an ESP (${esp.label}) and a BIOS boot partition (${facts.biosBoot.label}); say which with aws ec2 import-image --boot-mode (uefi-preferred is refused for imports)`);
    if (esp) return info(`uefi: a GPT disk that boots from its ESP (${esp.label}); import with aws ec2 import-image --boot-mode uefi (uefi-preferred is refused for imports), and launch it on an instance type that supports UEFI`);
    if (facts.biosBoot) return info(`legacy-bios: a GPT disk without an ESP, which GRUB boots by BIOS from its BIOS boot partition (${facts.biosBoot.label})`);
    return none('a GPT disk with neither an ESP nor a BIOS boot partition');
  }
  if (facts.table === 'mbr') {
    if (facts.active) return info(`legacy-bios: an MBR disk that BIOS boots from its active partition (${facts.active.label})`);
    if (facts.grubBootCode) return info('legacy-bios: an MBR disk with GRUB\'s boot code in LBA 0');
    return none('an MBR disk with no active partition and no boot code that needs none');
  }
  return none('no partition table');
}

// --- words and commands ----------------------------------------------------------------------

const QEMU_FORMAT: Record<string, string> = { raw: 'raw', memory: 'raw', device: 'raw', vhd: 'vpc', vhdx: 'vhdx', qcow2: 'qcow2', vmdk: 'vmdk' };

function formatWords(c: ContainerFacts): string {
  if (c.format === 'raw' || c.format === 'memory') return 'a raw image';
  if (c.format === 'device') return 'a drive, not an image file';
  if (c.format === 'vmdk') return `a ${c.subformat ?? ''} VMDK`.replace('  ', ' ');
  return `a${c.subformat ? ` ${c.subformat}` : ''} ${c.format === 'qcow2' ? 'qcow2 image' : c.format.toUpperCase()}`;
}

/** `qemu-img convert` from the disk's own format to `to` (vpc fixed with force_size, or a VMDK subformat). */
function convert(c: ContainerFacts, disk: string, to: 'vpc' | 'vmdk', out: string, vmdkSubformat?: string): string {
  const options = to === 'vpc' ? 'subformat=fixed,force_size' : `subformat=${vmdkSubformat}`;
  return `qemu-img convert -f ${QEMU_FORMAT[c.format] ?? 'raw'} -O ${to} -o ${options} ${shellQuote(disk)} ${shellQuote(out)}`;
}

/** The same facts for the file inside the compression. */
function uncompressed(c: ContainerFacts): ContainerFacts {
  const inside = { ...c };
  delete inside.compression;
  return inside;
}

function convertToRaw(c: ContainerFacts, disk: string): string {
  const from = c.compression ? `${decompress(c.compression, disk)}; ` : '';
  const source = c.compression ? decompressedName(disk) : disk;
  return `${from}qemu-img convert -f ${QEMU_FORMAT[c.format] ?? 'raw'} -O raw ${shellQuote(source)} ${shellQuote(rawName(disk))}`;
}

const COMPRESSED_SUFFIX = /\.(gz|xz|zst)$/i;
const CONTAINER_SUFFIX = /\.(img|raw|vhd|vhdx|avhdx|qcow2|vmdk)$/i;
const TOOL: Record<string, string> = { gzip: 'gzip', xz: 'xz', zstd: 'zstd' };

/** The path without its compression and container suffixes: `vm.vhdx.gz` → `vm`. */
function stem(path: string): string {
  return path.replace(COMPRESSED_SUFFIX, '').replace(CONTAINER_SUFFIX, '');
}
const azureOut = (disk: string): string => `${stem(disk)}-azure.vhd`;
const rawName = (disk: string): string => `${stem(disk)}-raw.img`;
const decompressedName = (disk: string): string => (COMPRESSED_SUFFIX.test(disk) ? disk.replace(COMPRESSED_SUFFIX, '') : `${disk}.decompressed`);
const decompress = (compression: string, disk: string): string => `${TOOL[compression] ?? compression} -dc ${shellQuote(disk)} > ${shellQuote(decompressedName(disk))}`;

const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`;
const gib = (n: number): string => `${(n / GIB).toLocaleString('en-US', { maximumFractionDigits: 1 })} GiB`;
const cap = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
