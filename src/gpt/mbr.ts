import { put32, u16, u32 } from './le.js';

export const MBR_GPT_PROTECTIVE = 0xee;
/** MBR types of an extended partition: CHS (0x05), LBA (0x0F) and Linux's (0x85). */
export const EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

export interface MbrRecord {
  /** 0-based slot in the MBR table. */
  slot: number;
  bootIndicator: number;
  /** Cylinder-head-sector bytes as stored, e.g. "000200". */
  startChs: string;
  osType: number;
  endChs: string;
  startLba: number;
  sizeLba: number;
}

export type MbrKind = 'protective' | 'hybrid' | 'legacy' | 'none';

export interface Mbr {
  /** 0x55AA at bytes 510–511. */
  bootSignature: boolean;
  diskSignature: number;
  /** All four slots, empty ones included (osType 0). */
  records: MbrRecord[];
  kind: MbrKind;
  raw: Uint8Array;
}

const chs = (b: Uint8Array, off: number): string =>
  [b[off] ?? 0, b[off + 1] ?? 0, b[off + 2] ?? 0].map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();

/**
 * Decodes LBA 0. `none`: no 0x55AA; `protective`: an 0xEE record and every other record empty;
 * `hybrid`: an 0xEE record beside other records (Windows then treats the disk as MBR);
 * `legacy`: a boot signature but no 0xEE record.
 */
export function decodeMbr(sector: Uint8Array): Mbr {
  const records: MbrRecord[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const o = 446 + slot * 16;
    records.push({
      slot,
      bootIndicator: sector[o] ?? 0,
      startChs: chs(sector, o + 1),
      osType: sector[o + 4] ?? 0,
      endChs: chs(sector, o + 5),
      startLba: u32(sector, o + 8),
      sizeLba: u32(sector, o + 12),
    });
  }
  const bootSignature = u16(sector, 510) === 0xaa55;
  const protectiveCount = records.filter((r) => r.osType === MBR_GPT_PROTECTIVE).length;
  const otherCount = records.filter((r) => r.osType !== 0 && r.osType !== MBR_GPT_PROTECTIVE).length;
  let kind: MbrKind;
  if (!bootSignature) kind = 'none';
  else if (protectiveCount === 0) kind = 'legacy';
  else kind = otherCount > 0 ? 'hybrid' : 'protective';
  return { bootSignature, diskSignature: u32(sector, 440), records, kind, raw: sector };
}

/** The protective 0xEE record, if any (the first one). */
export function protectiveRecord(mbr: Mbr): MbrRecord | undefined {
  return mbr.records.find((r) => r.osType === MBR_GPT_PROTECTIVE);
}

/**
 * A fresh protective MBR per the UEFI spec: one 0xEE record from LBA 1 covering the disk
 * (0xFFFFFFFF when it does not fit), boot code and disk signature kept from `base`.
 */
export function encodeProtectiveMbr(totalSectors: number, sectorSize: number, base?: Uint8Array): Uint8Array {
  const s = new Uint8Array(sectorSize);
  if (base) s.set(base.subarray(0, 440));
  const size = Math.min(totalSectors - 1, 0xffffffff);
  const o = 446;
  s[o] = 0x00;
  s.set([0x00, 0x02, 0x00], o + 1);
  s[o + 4] = MBR_GPT_PROTECTIVE;
  s.set(endChs(totalSectors - 1), o + 5);
  put32(s, o + 8, 1);
  put32(s, o + 12, size);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

/** CHS of an LBA with the usual 255 heads / 63 sectors geometry; FF FF FF when beyond 1023 cylinders. */
function endChs(lba: number): number[] {
  const cylinder = Math.floor(lba / (255 * 63));
  if (cylinder > 1023) return [0xff, 0xff, 0xff];
  const head = Math.floor(lba / 63) % 255;
  const sector = (lba % 63) + 1;
  return [head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff];
}
