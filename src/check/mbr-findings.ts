import { MIN_ARRAY_BYTES } from '../gpt/header.js';
import { hex8 } from '../gpt/le.js';
import { EXTENDED_TYPES, MBR_GPT_PROTECTIVE } from '../gpt/mbr.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import { isMbrOnlyDisk } from '../read/mbr-layout.js';
import type { Finding } from './finding.js';

/** The rules about LBA 0: an MBR disk, a missing or wrong protective MBR, a hybrid MBR. */

/**
 * A disk partitioned with an MBR and no trace of a GPT (no "EFI PART" at LBA 1 or at the end) is
 * an MBR disk, not a damaged GPT: said so, as a warning, since UEFI boot and Windows 11 want GPT.
 */
export function mbrDiskFinding(g: LoadedGpt): Finding | undefined {
  if (!isMbrOnlyDisk(g)) return undefined;
  const used = g.mbr.records.filter((r) => r.osType !== 0);
  const records = used.map((r) => `slot ${r.slot} type ${hex8(r.osType)}${r.bootIndicator === 0x80 ? ' (active)' : ''}`).join(', ');
  // What a conversion to GPT would need (what sgdisk -v reports after converting in memory): the
  // backup array and header take the last sectors of the disk.
  const backupSectors = 1 + Math.ceil(MIN_ARRAY_BYTES / g.sectorSize);
  // Partitions past the very end are partition-out-of-range's (an image cut short), not in the way.
  const inTheWay = used.filter((r) => r.startLba + r.sizeLba - 1 > g.lastLba - backupSectors && r.startLba + r.sizeLba - 1 <= g.lastLba);
  const conversion = inTheWay.length
    ? `. Converting it to GPT needs the last ${backupSectors} sectors for the backup GPT, where ${inTheWay.map((r) => `slot ${r.slot}`).join(', ')} end${inTheWay.length > 1 ? '' : 's'}: shrink ${inTheWay.length > 1 ? 'them' : 'it'} first`
    : '';
  return {
    code: 'mbr-disk',
    severity: 'warning',
    message: `an MBR-partitioned disk (${records}), not a GPT disk: there is no GPT to check. UEFI firmware boots an MBR disk only from a FAT partition of type 0xEF, and Windows 11 on UEFI needs GPT (MBR2GPT converts a Windows system disk)${conversion}`,
  };
}

/**
 * The MBR side of `partition-out-of-range`: a primary record (or the extended partition holding
 * the logical ones) that runs past the last sector. An image cut short, the first MiBs of a
 * larger disk, or a 512-byte disk read with `--sector-size 4096` all look like this; without the
 * finding such a disk would only be "an MBR disk" and its missing partitions never mentioned.
 */
export function mbrOutOfRangeFindings(g: LoadedGpt): Finding[] {
  const used = g.mbr.records.filter((r) => r.osType !== 0 && r.sizeLba > 0);
  const past = used.filter((r) => r.startLba + r.sizeLba - 1 > g.lastLba);
  if (!past.length) return [];
  const fitsAt512 = g.sectorSize > 512 && used.every((r) => (r.startLba + r.sizeLba) * 512 <= g.source.size);
  const why = fitsAt512
    ? `; with 512-byte sectors every partition fits: the disk was read with ${g.sectorSize}-byte sectors${g.sectorSizeChoice.reason === 'override' ? ' (--sector-size)' : ''}, and an MBR counts in 512-byte sectors unless the disk's own are larger`
    : ': the image is shorter than the disk its MBR was written for (cut short, or a copy of its first part only)';
  return past.map((r) => {
    const end = r.startLba + r.sizeLba - 1;
    const where = r.startLba > g.lastLba ? 'lies past' : 'runs past';
    const kind = EXTENDED_TYPES.has(r.osType) ? `type ${hex8(r.osType)}, the extended partition with its logical ones` : `type ${hex8(r.osType)}`;
    return {
      code: 'partition-out-of-range',
      severity: 'error',
      partition: r.slot + 1,
      message: `MBR partition ${r.slot + 1} (${kind}, LBA ${r.startLba}..${end}) ${where} the end of the disk (last LBA ${g.lastLba})${why}`,
    };
  });
}

export function mbrFindings(g: LoadedGpt, repair: string): Finding[] {
  const { mbr } = g;
  if (mbr.kind === 'none' || mbr.kind === 'legacy') {
    const used = mbr.records.filter((r) => r.osType !== 0);
    if (mbr.kind === 'legacy' && used.length) {
      // Which table is current is for a person to say: repair refuses without --replace-mbr, so no fix line.
      const records = used.map((r) => `slot ${r.slot} type ${hex8(r.osType)} at LBA ${r.startLba}`).join(', ');
      return [{
        code: 'pmbr-missing',
        severity: 'error',
        message: `LBA 0 holds an MBR partition table (${records}) instead of a protective MBR: Linux, parted and Windows will use the MBR and not see the GPT. If the GPT is the table in use, run \`${repair} --replace-mbr\` (the undo file keeps the MBR); if the MBR is, the GPT is stale and should be wiped (sgdisk --zap)`,
      }];
    }
    const what = mbr.kind === 'none' ? 'LBA 0 has no 0x55AA boot signature' : 'LBA 0 has an MBR without a 0xEE protective record';
    return [{ code: 'pmbr-missing', severity: 'error', message: `${what}: Linux, parted and Windows will not see the GPT`, fix: repair }];
  }
  const out: Finding[] = [];
  if (mbr.kind === 'hybrid') {
    const others = mbr.records.filter((r) => r.osType !== 0 && r.osType !== MBR_GPT_PROTECTIVE).map((r) => `slot ${r.slot} type ${hex8(r.osType)}`);
    out.push({ code: 'hybrid-mbr', severity: 'warning', message: `hybrid MBR (${others.join(', ')} beside the 0xEE record): Windows treats such a disk as MBR, and the two tables can drift apart`, fix: repair });
  }
  const protectives = mbr.records.filter((r) => r.osType === MBR_GPT_PROTECTIVE);
  const ee = protectives[0]!;
  const expectedSize = Math.min(g.totalSectors - 1, 0xffffffff);
  const problems: string[] = [];
  if (protectives.length > 1) problems.push(`${protectives.length} records of type 0xEE`);
  if (ee.startLba !== 1) problems.push(`0xEE record starts at LBA ${ee.startLba}, not 1`);
  if (ee.bootIndicator !== 0) problems.push(`0xEE record is marked bootable (0x${ee.bootIndicator.toString(16)})`);
  // In a hybrid MBR the 0xEE record covers only the GPT structures by design; size it only when protective.
  if (mbr.kind === 'protective' && ee.sizeLba !== expectedSize && ee.sizeLba !== 0xffffffff) {
    problems.push(`0xEE record covers ${ee.sizeLba} sectors but the disk has ${g.totalSectors - 1} after LBA 0${ee.sizeLba < expectedSize ? ' (disk grown?)' : ''}`);
  }
  if (problems.length) out.push({ code: 'pmbr-invalid', severity: 'warning', message: `protective MBR: ${problems.join('; ')}`, fix: repair });
  else if (ee.sizeLba === 0xffffffff && expectedSize !== 0xffffffff) {
    out.push({ code: 'pmbr-invalid', severity: 'info', message: '0xEE record size is 0xFFFFFFFF rather than the disk size (Windows writes it this way; harmless)' });
  }
  return out;
}

