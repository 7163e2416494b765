import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/** Every byte of the virtual disk, as gptdoctor reads it. */
async function virtualBytes(path: string): Promise<Buffer> {
  const source = await openDisk(path);
  try {
    return Buffer.from(await source.read(0, source.size));
  } finally {
    await source.close();
  }
}

/** The same, as qemu reads it: the oracle. */
function qemuBytes(path: string, dir: string): Buffer {
  const out = join(dir, 'qemu-out.raw');
  run('qemu-img', ['convert', '-O', 'raw', path, out]);
  return readFileSync(out);
}

describe.runIf(haveTools('qemu-img'))('qcow2 features: zstd clusters and external data files', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const raw = fixtureFile('windows-esp-basic', dir.path);
  const rawBytes = readFileSync(raw);

  it('a qcow2 whose clusters are zstd-compressed (incompatible bit 3) reads as qemu reads it', async () => {
    const image = join(dir.path, 'zstd.qcow2');
    run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'compression_type=zstd', raw, image]);
    expect(run('qemu-img', ['info', image])).toMatch(/compression type: zstd/);
    const bytes = await virtualBytes(image);
    expect(bytes.equals(qemuBytes(image, dir.path))).toBe(true);
    expect(bytes.equals(rawBytes)).toBe(true);
    expect((await checkDisk(image)).findings.map((f) => f.code)).toEqual((await checkDisk(raw)).findings.map((f) => f.code));
  });

  it('a zstd cluster that does not decompress to one cluster is EFORMAT, never a crash', async () => {
    const image = join(dir.path, 'zstd-bad.qcow2');
    run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'compression_type=zstd', raw, image]);
    const bytes = readFileSync(image);
    // Garble every zstd frame's first block header: the frames then no longer decode.
    for (let at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); at >= 0; at = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), at + 4)) bytes[at + 7] = bytes[at + 7]! ^ 0xff;
    writeFileSync(image, bytes);
    await expect(virtualBytes(image)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/zstd-compressed qcow2 cluster does not decompress/) });
  });

  for (const rawMode of [true, false]) {
    it(`a qcow2 with an external data file (incompatible bit 2${rawMode ? ', data_file_raw' : ''}) reads its clusters from that file`, async () => {
      const image = join(dir.path, `ext-${rawMode}.qcow2`);
      const data = `ext-${rawMode}.data`;
      run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', `data_file=${join(dir.path, data)}${rawMode ? ',data_file_raw=on' : ''}`, raw, image]);
      expect(run('qemu-img', ['info', image])).toMatch(/data file: /);
      const bytes = await virtualBytes(image);
      expect(bytes.equals(qemuBytes(image, dir.path))).toBe(true);
      expect(bytes.equals(rawBytes)).toBe(true);
      const check = gptdoctor(['check', '--json', image]);
      expect(JSON.parse(check.stdout).source.format).toBe('qcow2');

      renameSync(join(dir.path, data), join(dir.path, `${data}.moved`));
      await expect(openDisk(image)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/external data file .* is missing/) });
      renameSync(join(dir.path, `${data}.moved`), join(dir.path, data));
    });
  }

  it('file names stored in the image with a NUL byte are EFORMAT with a sentence, never a raw Node error', async () => {
    const base = join(dir.path, 'base.qcow2');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, base]);
    const child = join(dir.path, 'child.qcow2');
    run('qemu-img', ['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', child]);
    const ext = join(dir.path, 'named.qcow2');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', `data_file=${join(dir.path, 'named.data')}`, raw, ext]);
    for (const [image, name, what] of [[child, 'base.qcow2', 'backing file'], [ext, join(dir.path, 'named.data'), 'data file']] as const) {
      const bytes = readFileSync(image);
      const at = bytes.indexOf(Buffer.from(name));
      expect(at).toBeGreaterThan(0);
      bytes[at + 2] = 0;
      writeFileSync(image, bytes);
      await expect(openDisk(image)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringContaining(`${what} name contains a NUL byte`) });
      const cli = gptdoctor(['check', image]);
      expect([cli.status, cli.stderr.trim().split('\n').length]).toEqual([2, 1]);
      expect(cli.stderr).not.toMatch(/ERR_INVALID_ARG_VALUE/);
    }
  });
});
