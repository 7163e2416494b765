import type { LoadedGpt } from '../read/load-gpt.js';

/** Field names by byte offset, shown beside the hex of the line that holds them. */
const HEADER_FIELDS: Array<[number, string]> = [
  [0, 'signature'], [8, 'revision'], [12, 'header size'], [16, 'header CRC32'], [20, 'reserved'], [24, 'my LBA'],
  [32, 'alternate LBA'], [40, 'first usable LBA'], [48, 'last usable LBA'], [56, 'disk GUID'], [72, 'entries LBA'],
  [80, 'entry count'], [84, 'entry size'], [88, 'entries CRC32'],
];
const MBR_FIELDS: Array<[number, string]> = [
  [440, 'disk signature'], [444, 'reserved'], [446, 'record 0'], [462, 'record 1'], [478, 'record 2'], [494, 'record 3'], [510, '0x55AA'],
];

function dump(bytes: Uint8Array, base: number, from: number, to: number, fields: Array<[number, string]>): string[] {
  const lines: string[] = [];
  for (let at = from; at < Math.min(to, bytes.length); at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, to));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47);
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('').padEnd(16);
    const names = fields.filter(([o]) => o >= at && o < at + 16).map(([, n]) => n).join(', ');
    lines.push(`  ${(base + at).toString(16).padStart(10, '0')}  ${hex}  |${text}|${names ? '  ' + names : ''}`);
  }
  return lines;
}

/** Lines after which the rest of the sector is all zero are summarised rather than printed. */
function tail(bytes: Uint8Array, from: number): string[] {
  const nonZero = bytes.subarray(from).findIndex((b) => b !== 0);
  return nonZero === -1 ? [`  (bytes ${from}..${bytes.length - 1} are zero)`] : [`  (bytes from ${from} are not all zero: first non-zero at ${from + nonZero})`];
}

/** The raw MBR and both header sectors, with the decoded field names beside the bytes. */
export function renderHexdump(g: LoadedGpt): string {
  const out: string[] = ['', 'LBA 0 (MBR): boot code bytes 0..439 not shown'];
  out.push(...dump(g.mbr.raw, 0, 432, 512, MBR_FIELDS));
  for (const copy of [g.primary, g.backup]) {
    const raw = copy.header?.raw;
    out.push('', `LBA ${copy.lba} (${copy.which} header)${raw ? '' : ': not on the disk'}`);
    if (raw) out.push(...dump(raw, copy.lba * g.sectorSize, 0, 96, HEADER_FIELDS), ...tail(raw, 96));
  }
  return out.join('\n');
}
