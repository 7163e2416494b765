import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDeflateRaw } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openDisk } from '../src/disk/open.js';
import { tempDir } from './helpers/tools.js';

/** Raw deflate of `bytes` zero bytes, streamed so the test itself never holds them. */
async function deflatedZeros(bytes: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    if (!deflate.write(chunk.subarray(0, Math.min(chunk.length, bytes - written)))) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(out);
}

/**
 * A qcow2 v2 image laid out by hand (the qcow2 spec, "Compressed Clusters Descriptor"): 2 MiB
 * clusters, one L1 entry, one L2 table whose first entry is a compressed cluster that inflates
 * to `inflated` bytes, far beyond the one cluster it may hold.
 */
async function qcow2Bomb(file: string, inflated: number): Promise<void> {
  const clusterBits = 21;
  const cluster = 2 ** clusterBits;
  const data = await deflatedZeros(inflated);
  const header = Buffer.alloc(cluster * 3);
  header.write('QFI\xfb', 0, 'latin1');
  header.writeUInt32BE(2, 4); // version
  header.writeUInt32BE(clusterBits, 20);
  header.writeBigUInt64BE(BigInt(cluster), 24); // virtual size: one cluster
  header.writeUInt32BE(1, 36); // L1 entries
  header.writeBigUInt64BE(BigInt(cluster), 40); // L1 at cluster 1
  header.writeBigUInt64BE(BigInt(cluster * 2) | (1n << 63n), cluster); // L1[0] → L2 at cluster 2
  const x = 62n - BigInt(clusterBits - 8);
  const sectors = BigInt(Math.ceil(data.length / 512));
  header.writeBigUInt64BE((1n << 62n) | ((sectors - 1n) << x) | BigInt(cluster * 3), cluster * 2); // L2[0]: compressed, at cluster 3
  writeFileSync(file, Buffer.concat([header, data, Buffer.alloc(512)]));
}

describe('decompression bombs in containers', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('a qcow2 cluster that would inflate to 1 GiB is refused as damaged, in bounded memory', async () => {
    const file = join(dir.path, 'bomb.qcow2');
    await qcow2Bomb(file, 1024 * 1024 * 1024);
    const source = await openDisk(file);
    const rssBefore = process.memoryUsage().rss;
    await expect(source.read(0, 512)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/compressed qcow2 cluster does not inflate: it inflates to more than the 2097152 bytes it may hold/) });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    await source.close();
  });

  it('the same layout with a cluster that inflates to exactly one cluster reads as zeros', async () => {
    const file = join(dir.path, 'honest.qcow2');
    await qcow2Bomb(file, 2 * 1024 * 1024);
    const source = await openDisk(file);
    expect([...(await source.read(0, 16))]).toEqual(new Array(16).fill(0));
    await source.close();
  });
});
