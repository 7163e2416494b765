import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectDisk } from '../src/api.js';
import { canUseLoop, haveTools, prng, run, tempDir, withLoop } from './helpers/tools.js';
import { fromGptdoctor, fromSfdisk, type SfdiskTable } from './helpers/sfdisk.js';

/**
 * Differential test: sfdisk writes random valid GPT layouts, and `inspect --json` must report
 * exactly what `sfdisk --json` reports for every partition field. 4096-byte-sector layouts are
 * written through a loop device with that sector size; gptdoctor then reads the plain file with
 * no hint, which gdisk and sfdisk cannot do.
 */
const LAYOUTS_512 = 160;
const LAYOUTS_4096 = 50;
const SEED = 0x6a7d0c;

const TYPES = [
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', '0FC63DAF-8483-4772-8E79-3D69D8477DE4', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  '21686148-6449-6E6F-744E-656564454649', '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'E6D6D379-F507-44C2-A23C-238F2A3DF928',
  '516E7CBA-6ECF-11D6-8FF8-00022D09712B', '7C3457EF-0000-11AA-AA11-00306543ECAC', 'FE3A2A5D-4F32-41A7-B725-ACCC3285A309',
];
// sfdisk 2.38 cannot encode characters outside the BMP, so surrogate pairs are covered by the codec tests.
const NAMES = ['', 'EFI system partition', 'Microsoft reserved partition', 'Basic data partition', 'ホーム', 'données', 'Ελληνικά', 'root', 'x'.repeat(36), 'ä-ö-ü ß', 'Данные', '数据 分区', 'a,b;c'];
const ATTR_WORDS = ['RequiredPartition', 'NoBlockIOProtocol', 'LegacyBIOSBootable'];

interface Layout {
  sectorSize: number;
  sectors: number;
  script: string;
}

function randomGuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16).toUpperCase()).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function randomLayout(rand: () => number, sectorSize: number): Layout {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const mib = sectorSize === 4096 ? 256 : 2048;
  const sectors = (8 + Math.floor(rand() * 120)) * mib;
  const tableLength = pick([128, 128, 128, 256, 64, 192]);
  const arraySectors = Math.ceil((tableLength * 128) / sectorSize);
  const firstUsable = 2 + arraySectors;
  const lastUsable = sectors - 2 - arraySectors;
  const count = 1 + Math.floor(rand() * Math.min(24, tableLength - 1));
  const lines = ["label: gpt", `label-id: ${randomGuid(rand)}`, `table-length: ${tableLength}`, `first-lba: ${firstUsable}`];
  const slots = new Set<number>();
  let next = firstUsable + Math.floor(rand() * Math.min(4096, (lastUsable - firstUsable) / 4));
  for (let i = 0; i < count; i++) {
    const align = pick([1, 8, mib]);
    const start = Math.ceil(next / align) * align;
    const size = 1 + Math.floor(rand() * Math.max(1, (lastUsable - start) / (count - i + 1)));
    if (start + size - 1 > lastUsable) break;
    let slot = 1 + Math.floor(rand() * tableLength);
    while (slots.has(slot)) slot = (slot % tableLength) + 1;
    slots.add(slot);
    const attrs = [...ATTR_WORDS.filter(() => rand() < 0.2), ...(rand() < 0.4 ? [`GUID:${[48, 52, 60, 61, 62, 63].filter(() => rand() < 0.4).join(',') || '63'}`] : [])];
    const type = rand() < 0.15 ? randomGuid(rand) : pick(TYPES);
    const name = pick(NAMES);
    lines.push(
      `disk${slot} : start=${start}, size=${size}, type=${type}, uuid=${randomGuid(rand)}` +
        (name ? `, name="${name}"` : '') +
        (attrs.length ? `, attrs="${attrs.join(',')}"` : ''),
    );
    next = start + size + Math.floor(rand() * 2 * mib);
  }
  return { sectorSize, sectors, script: lines.join('\n') + '\n' };
}

function sortByIndex<T extends { index?: unknown }>(rows: T[]): T[] {
  return rows.sort((a, b) => Number(a.index) - Number(b.index));
}

describe.runIf(haveTools('sfdisk') && canUseLoop())('inspect agrees with sfdisk --json on random layouts', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const rand = prng(SEED);
  const layouts = [
    ...Array.from({ length: LAYOUTS_512 }, () => randomLayout(rand, 512)),
    ...Array.from({ length: LAYOUTS_4096 }, () => randomLayout(rand, 4096)),
  ];

  it.each(layouts.map((layout, i) => [i, layout] as const))('layout %i', async (i, layout) => {
    const file = join(dir.path, `layout-${i}.img`);
    writeFileSync(file, '');
    truncateSync(file, layout.sectors * layout.sectorSize);
    const partitionNode = (device: string): string => layout.script.replace(/^disk(\d+) :/gm, `${device}${device.startsWith('/dev/') ? 'p' : ''}$1 :`);
    const sfdisk = (device: string): SfdiskTable => {
      run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', device], partitionNode(device));
      return JSON.parse(run('sfdisk', ['--json', device])) as SfdiskTable;
    };
    const expected = layout.sectorSize === 512 ? sfdisk(file) : withLoop(file, 4096, sfdisk);
    const report = await inspectDisk(file);

    expect(report.source.sectorSize).toBe(layout.sectorSize);
    expect(report.table).toBe('primary');
    expect(report.primary.diskGuid).toBe(expected.partitiontable.id.toUpperCase());
    expect(report.primary.firstUsableLba).toBe(expected.partitiontable.firstlba);
    expect(report.primary.lastUsableLba).toBe(expected.partitiontable.lastlba);
    const theirs = sortByIndex((expected.partitiontable.partitions ?? []).map(fromSfdisk));
    expect(theirs.length).toBeGreaterThan(0);
    expect(sortByIndex(report.partitions.map(fromGptdoctor))).toEqual(theirs);
  });
});
