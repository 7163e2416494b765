import { typeByGuid } from '../gpt/partition-types.js';
import type { HeaderReport, InspectReport } from '../report/inspect-report.js';
import { formatBytes, table } from './format.js';

const HEADER_FIELDS: Array<[keyof HeaderReport, string]> = [
  ['signature', 'signature'],
  ['revision', 'revision'],
  ['headerSize', 'header size'],
  ['headerCrc32', 'header CRC32'],
  ['computedHeaderCrc32', '  computed'],
  ['myLba', 'my LBA'],
  ['alternateLba', 'alternate LBA'],
  ['firstUsableLba', 'first usable LBA'],
  ['lastUsableLba', 'last usable LBA'],
  ['diskGuid', 'disk GUID'],
  ['entriesLba', 'entries LBA'],
  ['entryCount', 'entry count'],
  ['entrySize', 'entry size'],
  ['entriesCrc32', 'entries CRC32'],
  ['computedEntriesCrc32', '  computed'],
];

/** Fields that legitimately differ between the two copies. */
const EXPECTED_TO_DIFFER = new Set<keyof HeaderReport>(['headerCrc32', 'computedHeaderCrc32', 'myLba', 'alternateLba', 'entriesLba']);

const SECTOR_SIZE_REASON = {
  override: 'as given by --sector-size',
  declared: 'as the container or device declares',
  detected: 'detected from the GPT header',
  default: 'no GPT header found at any sector size; assumed',
} as const;

/** The human view of `inspect`: disk, MBR, both headers side by side, then the partition table. */
export function renderInspect(r: InspectReport): string {
  const out: string[] = [];
  const s = r.source;
  out.push(`Disk ${s.path}: ${s.format} image, ${s.size} bytes (${formatBytes(s.size)}), ${s.sectorSize}-byte sectors (${SECTOR_SIZE_REASON[s.sectorSizeSource]})`);
  if (s.container) out.push(`Container: ${Object.entries(s.container).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(renderMbr(r));
  out.push('');
  out.push(...renderHeaders(r));
  out.push('');
  out.push(...renderPartitions(r));
  return out.join('\n');
}

function renderMbr(r: InspectReport): string {
  const m = r.mbr;
  const records = m.records.map((rec) => `slot ${rec.slot}: type ${rec.osType}${rec.bootIndicator !== '0x00' ? ` boot ${rec.bootIndicator}` : ''}, LBA ${rec.startLba}+${rec.sizeLba}`);
  const kinds = { protective: 'protective MBR', hybrid: 'HYBRID MBR (Windows will treat this disk as MBR)', legacy: 'legacy MBR without a 0xEE record', none: 'no MBR (no 0x55AA signature at LBA 0)' };
  return `MBR: ${kinds[m.kind]}${records.length ? ' — ' + records.join('; ') : ''}`;
}

function renderHeaders(r: InspectReport): string[] {
  const p = r.primary;
  const b = r.backup;
  const status = (h: HeaderReport): string => (h.valid ? 'valid' : h.headerValid ? 'header valid, ENTRIES BAD' : h.signature === undefined ? 'not readable' : 'INVALID');
  const rows: string[][] = [
    ['', `primary (LBA ${p.lba})`, `backup (LBA ${b.lba})`, ''],
    ['status', status(p), status(b), ''],
  ];
  for (const [key, label] of HEADER_FIELDS) {
    const pv = p[key];
    const bv = b[key];
    if (pv === undefined && bv === undefined) continue;
    const differs = pv !== undefined && bv !== undefined && String(pv) !== String(bv) && !EXPECTED_TO_DIFFER.has(key);
    rows.push([label, String(pv ?? '—'), String(bv ?? '—'), differs ? '← differs' : '']);
  }
  const lines = table(rows);
  for (const [name, h] of [['primary', p], ['backup', b]] as const) {
    for (const problem of h.problems) lines.push(`  ${name}: ${problem}`);
  }
  return lines;
}

function renderPartitions(r: InspectReport): string[] {
  const lines: string[] = [];
  if (r.mbrDisk) {
    lines.push(...renderMbrDisk(r.mbrDisk));
  } else if (r.table === 'none') {
    lines.push('No valid partition table: neither the primary nor the backup GPT is valid. Try `gptdoctor recover`.');
  } else {
    lines.push(r.table === 'primary' ? 'Partition table (from the primary GPT):' : 'Partition table (from the BACKUP GPT, because the primary is damaged):');
    lines.push(...(r.partitions.length ? partitionRows(r.partitions) : ['  (no partitions)']));
    lines.push(...volumeErrors(r.partitions));
    if (r.freeSpace) lines.push(...renderFreeSpace(r.freeSpace));
    if (r.bcd) lines.push('', ...renderBcd(r.bcd));
  }
  for (const other of r.otherCopies) {
    lines.push('');
    lines.push(
      other.verified
        ? `The ${other.copy} GPT is valid but its entries differ from the table above (${other.differences.length} difference${other.differences.length === 1 ? '' : 's'}):`
        : `Entries of the ${other.copy} GPT, UNVERIFIED (its entry array CRC does not match; shown as gdisk would read them)${other.differences.length ? '; against the table above (table → this copy):' : ':'}`,
    );
    lines.push(...other.differences.map((d) => `  ${d}`));
    if (!other.verified) lines.push(...(other.partitions.length ? partitionRows(other.partitions) : ['  (no used entries)']));
  }
  return lines;
}

/** An MBR disk: not a damaged GPT, so its MBR partitions are the table shown. */
function renderMbrDisk(m: NonNullable<InspectReport['mbrDisk']>): string[] {
  const lines = ['No GPT: this is an MBR-partitioned disk (`gptdoctor check` says whether MBR2GPT can convert a Windows one). MBR partitions:'];
  const rows = [['#', 'Kind', 'Start (LBA)', 'End (LBA)', 'Size', 'Type', 'Active', 'FS', 'Label']];
  for (const p of m.partitions) {
    rows.push([String(p.number), p.kind, String(p.firstLba), String(p.lastLba), formatBytes(p.size), p.type, p.active ? 'yes' : '', p.filesystem ?? '', p.label ?? '']);
  }
  lines.push(...table(rows, 'r_rrr').map((l) => '  ' + l));
  lines.push(...m.problems.map((p) => `  problem: ${p}`));
  lines.push(...m.partitions.filter((p) => p.volumeError !== undefined).map((p) => `Partition ${p.number}: its ${p.filesystem} volume cannot be read: ${p.volumeError}`));
  if (m.bcd) lines.push('', ...renderBcd(m.bcd));
  return lines;
}

function renderBcd(b: NonNullable<InspectReport['bcd']>): string[] {
  const head = `Boot configuration (${b.path} on partition ${b.partition})`;
  if (b.state === 'missing') return [`${head}: missing`];
  if (b.state === 'unreadable') return [`${head}: unreadable (${b.reason})`];
  const where = (d: NonNullable<(typeof b.entries)[number]['device']> | undefined): string =>
    d === undefined ? '—' : d.kind !== 'partition' ? d.kind : d.partition ? `partition ${d.partition}` : `not on this disk (${d.partitionGuid ?? `offset ${d.partitionOffset} on disk ${d.diskSignature}`})`;
  const rows = [['Object', 'Description', 'Path', 'Device', 'OS device']];
  for (const e of b.entries) rows.push([e.object, e.description ?? '', e.path ?? '', where(e.device), e.osDevice ? where(e.osDevice) : '']);
  return [`${head}:`, ...table(rows).map((l) => '  ' + l), ...b.problems.map((p) => `  problem: ${p}`)];
}

function renderFreeSpace(f: NonNullable<InspectReport['freeSpace']>): string[] {
  if (!f.totalSectors) return ['Free space: none in the usable range'];
  const largest = f.largest.map((e) => `LBA ${e.firstLba}..${e.lastLba} (${formatBytes(e.bytes)})`).join(', ');
  return [`Free space: ${formatBytes(f.totalBytes)} (${f.totalSectors} sectors) in ${f.extents} extent${f.extents === 1 ? '' : 's'}; largest: ${largest}`];
}

function partitionRows(partitions: InspectReport['partitions']): string[] {
  const rows = [['#', 'Start (LBA)', 'End (LBA)', 'Size', 'Code', 'Type', 'Attributes', 'FS', 'Label', 'Free', 'Name']];
  for (const part of partitions) {
    rows.push([
      String(part.index),
      String(part.firstLba),
      String(part.lastLba),
      formatBytes(part.size),
      typeByGuid(part.type)?.gdiskCode ?? '',
      part.typeName === 'unknown' ? part.type : part.typeName,
      part.attributes === '0x0000000000000000' ? '0' : `${part.attributes} ${part.attributeNames.join(',')}`,
      part.filesystem ?? '',
      part.label ?? '',
      part.freeBytes !== undefined ? formatBytes(part.freeBytes) : part.volumeError !== undefined ? 'unreadable' : '',
      part.name,
    ]);
  }
  return table(rows, 'rrrr').map((l) => '  ' + l);
}

/** Volumes that looked like FAT or NTFS but could not be read, each with the reader's reason. */
function volumeErrors(partitions: InspectReport['partitions']): string[] {
  return partitions.filter((p) => p.volumeError !== undefined).map((p) => `Partition ${p.index}: its ${p.filesystem} volume cannot be read: ${p.volumeError}`);
}
