import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDisk } from '../src/disk/open.js';
import { vhdxChecksum } from '../src/disk/vhdx.js';
import { dataSectorProblem, logDescriptorProblem, logEntryProblem, logFieldsProblem, metadataItemsProblem, regionTableProblem } from '../src/disk/vhdx-rules.js';
import { fixtureFile } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

const MiB = 1024 * 1024;
const BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08';
const META = '8B7CA206-4790-4B9A-B8FE-575F050F886E';

describe('VHDX rules, each on its own (qemu block/vhdx.c, [MS-VHDX])', () => {
  const noLog = { offset: 0, length: 0 };
  it('region table: 1 MiB multiples, unique, not overlapping each other or the log', () => {
    expect(regionTableProblem([{ guid: BAT, offset: 2 * MiB, length: MiB }, { guid: META, offset: 3 * MiB, length: MiB }], { offset: MiB, length: MiB })).toBeUndefined();
    expect(regionTableProblem([{ guid: BAT, offset: 2 * MiB + 4096, length: MiB }], noLog)).toMatch(/not at a multiple of 1 MiB/);
    expect(regionTableProblem([{ guid: BAT, offset: 2 * MiB, length: 4096 }], noLog)).toMatch(/not a multiple of 1 MiB/);
    expect(regionTableProblem([{ guid: BAT, offset: 0, length: MiB }], noLog)).toMatch(/past the headers/);
    expect(regionTableProblem([{ guid: BAT, offset: 2 * MiB, length: 2 * MiB }, { guid: META, offset: 3 * MiB, length: MiB }], noLog)).toMatch(/overlap/);
    expect(regionTableProblem([{ guid: BAT, offset: 2 * MiB, length: MiB }], { offset: 2 * MiB, length: MiB })).toMatch(/and the log overlap|the log and/);
  });

  it('metadata items: unique, past the table, inside the region, not overlapping', () => {
    const item = (id: string, offset: number, length: number) => ({ id, offset, length });
    expect(metadataItemsProblem([item('A', 64 * 1024, 8), item('B', 64 * 1024 + 8, 8)], MiB)).toBeUndefined();
    expect(metadataItemsProblem([item('A', 64 * 1024, 8), item('A', 65 * 1024, 8)], MiB)).toMatch(/listed twice/);
    expect(metadataItemsProblem([item('A', 100, 8)], MiB)).toMatch(/inside the metadata table/);
    expect(metadataItemsProblem([item('A', MiB - 4, 8)], MiB)).toMatch(/outside its region/);
    expect(metadataItemsProblem([item('A', 64 * 1024, 16), item('B', 64 * 1024 + 8, 8)], MiB)).toMatch(/overlap/);
    expect(metadataItemsProblem([item('A', 0, 0), item('B', 0, 0)], MiB)).toBeUndefined(); // empty items take no room
  });

  it('log fields, entries, descriptors and data sectors', () => {
    expect(logFieldsProblem({ logVersion: 0, logOffset: MiB, logLength: MiB })).toBeUndefined();
    expect(logFieldsProblem({ logVersion: 1, logOffset: MiB, logLength: MiB })).toMatch(/log version is 1/);
    expect(logFieldsProblem({ logVersion: 0, logOffset: MiB + 4096, logLength: MiB })).toMatch(/1 MiB multiples/);
    expect(logEntryProblem({ flushedFileOffset: 8 * MiB }, 4 * MiB)).toMatch(/8388608 bytes when it was written, but it is 4194304/);
    expect(logDescriptorProblem('desc', 4096 * 3, 4096)).toBeUndefined();
    expect(logDescriptorProblem('desc', 4096 * 3 + 512, 4096)).toMatch(/not on a 4 KiB boundary/);
    expect(logDescriptorProblem('zero', 4096, 1000)).toMatch(/not a multiple of 4 KiB/);
    const sector = new Uint8Array(4096);
    const v = new DataView(sector.buffer);
    v.setUint32(4, 1, true);
    v.setUint32(4092, 2, true);
    expect(dataSectorProblem(sector, (1n << 32n) | 2n)).toBeUndefined();
    expect(dataSectorProblem(sector, 3n)).toMatch(/another sequence number/);
  });
});

describe.runIf(haveTools('qemu-img'))('VHDX files that break a rule are refused as damaged, naming it', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const base = (): Uint8Array => {
    const image = join(dir.path, 'base.vhdx');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', fixtureFile('linux', dir.path), image]);
    return new Uint8Array(readFileSync(image));
  };

  it('a region table listing the same region twice (checksum recomputed)', async () => {
    const bytes = base();
    for (const at of [192 * 1024, 256 * 1024]) {
      const table = bytes.subarray(at, at + 64 * 1024);
      const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
      const count = v.getUint32(8, true);
      table.copyWithin(16 + count * 32, 16, 48); // entry 0 again
      v.setUint32(8, count + 1, true);
      v.setUint32(4, vhdxChecksum(table), true);
    }
    const file = join(dir.path, 'twice.vhdx');
    writeFileSync(file, bytes);
    await expect(openDisk(file)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/region table is invalid: the region [0-9A-F-]{36} is listed twice/) });
  });

  it('a header whose log version is not 0 (checksum recomputed)', async () => {
    const bytes = base();
    for (const at of [64 * 1024, 128 * 1024]) {
      const header = bytes.subarray(at, at + 4096);
      const v = new DataView(header.buffer, header.byteOffset, 4096);
      v.setUint16(64, 1, true);
      v.setUint32(4, vhdxChecksum(header), true);
    }
    const file = join(dir.path, 'logversion.vhdx');
    writeFileSync(file, bytes);
    await expect(openDisk(file)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/log version is 1, not 0/) });
  });
});
