import { copyFileSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { DiskError } from '../src/disk/block-source.js';
import { openDisk } from '../src/disk/open.js';
import type { CheckReport } from '../src/report/check-report.js';
import { gptdoctor } from './helpers/cli.js';
import { IMAGES_DIR, fixtureFile } from './helpers/images.js';
import { startNginx, type Nginx } from './helpers/servers.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * Disks read over HTTP from a real server: nginx on loopback serving the Windows fixture raw, as
 * a fixed VHD, a VHDX, a qcow2 and gzip-compressed. Each must check exactly like the local file,
 * within the request budget of issue #20, and no query string (where a signature would be) may
 * appear in any output.
 */

/** What a presigned URL carries; nginx ignores it, and gptdoctor must never print it. */
const SECRET = 'sig=S3CRETsignature0123456789';
const withSecret = (url: string): string => `${url}?sv=2024-01-01&${SECRET}`;

/** A check report without what names the file (its path, and fix lines, which name the disk). */
function comparable(report: CheckReport): object {
  return { ...report, source: { ...report.source, path: '' }, findings: report.findings.map((f) => ({ ...f, fix: undefined })) };
}

describe.runIf(haveTools('nginx', 'qemu-img', 'sgdisk'))('disks over HTTP (nginx)', () => {
  const dir = tempDir('gptdoctor-http-');
  const www = join(dir.path, 'www');
  let nginx: Nginx;
  const local: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(www);
    local['windows.img'] = fixtureFile('windows', www);
    local['windows-esp-basic.img'] = fixtureFile('windows-esp-basic', www);
    const convert = (args: string[], name: string): void => {
      run('qemu-img', ['convert', '-f', 'raw', ...args, local['windows.img']!, join(www, name)]);
      local[name] = join(www, name);
    };
    convert(['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], 'windows.vhd');
    convert(['-O', 'vhdx'], 'windows.vhdx');
    convert(['-O', 'qcow2'], 'windows.qcow2');
    convert(['-O', 'vmdk', '-o', 'subformat=monolithicFlat'], 'windows.vmdk');
    copyFileSync(join(IMAGES_DIR, 'windows.img.gz'), join(www, 'windows.img.gz'));
    local['windows.img.gz'] = join(www, 'windows.img.gz');
    nginx = await startNginx(www, join(dir.path, 'nginx'));
  });
  afterAll(async () => {
    await nginx?.stop();
    dir.cleanup();
  });

  it.each(['windows.img', 'windows.vhd', 'windows.vhdx', 'windows.qcow2', 'windows.img.gz'])('%s checks and inspects as the local file does', async (name) => {
    const url = withSecret(nginx.url(name));
    const [remote, file] = await Promise.all([checkDisk(url), checkDisk(local[name]!)]);
    expect(remote.source.path).toBe(nginx.url(name));
    expect(comparable(remote)).toEqual(comparable(file));
    expect(remote.partitions.map((p) => p.filesystem)).toEqual(['fat32', 'zeroed', 'ntfs', 'ntfs']);
    const [remoteInspect, fileInspect] = await Promise.all([inspectDisk(url), inspectDisk(local[name]!)]);
    expect({ ...remoteInspect, source: { ...remoteInspect.source, path: '' } }).toEqual({ ...fileInspect, source: { ...fileInspect.source, path: '' } });
    expect(JSON.stringify([remote, remoteInspect])).not.toContain('S3CRET');
  });

  it('a fixed VHD over HTTP is what Azure takes, as the local file is', async () => {
    const [remote, file] = await Promise.all([checkDisk(withSecret(nginx.url('windows.vhd')), { target: 'azure' }), checkDisk(local['windows.vhd']!, { target: 'azure' })]);
    expect(remote.findings.filter((f) => f.code.startsWith('azure-')).map((f) => f.code)).toEqual(['azure-generation']);
    expect(comparable(remote)).toEqual(comparable(file));
  });

  it.each([['windows.vhdx', 'azure'], ['windows.qcow2', 'aws']] as const)('%s: the %s import pre-flight over HTTP is the local file\'s', async (name, target) => {
    const [remote, file] = await Promise.all([checkDisk(withSecret(nginx.url(name)), { target }), checkDisk(local[name]!, { target })]);
    const cloud = remote.findings.filter((f) => f.code.startsWith(`${target}-`));
    expect(cloud.length).toBeGreaterThan(0);
    expect(remote.findings.map((f) => f.code)).toEqual(file.findings.map((f) => f.code));
    // Its conversion commands name a local copy, never the URL.
    const convert = cloud.find((f) => f.message.includes('qemu-img convert'))!;
    expect(convert.message).not.toContain('http://');
    expect(convert.message).toContain(`qemu-img convert -f ${name.endsWith('vhdx') ? 'vhdx' : 'qcow2'} `);
    expect(convert.message).toContain(`${name} ${name.replace(/\.\w+$/, target === 'azure' ? '-azure.vhd' : '-aws.vmdk')}`);
    expect(convert.message).toMatch(/\(the commands work on a downloaded copy: curl -o windows\.\w+ 'URL'\)$/);
  });

  it('checks the raw Windows image in at most 3 requests (structure) and 24 requests and 1 MiB (default rules)', async () => {
    nginx.takeLog();
    const budget = async (profile?: 'structure'): Promise<{ requests: number; bytes: number }> => {
      const source = await openDisk(withSecret(nginx.url('windows.img')));
      try {
        await checkDisk(source, profile ? { profile } : {});
        return { requests: source.requests!, bytes: source.bytesTransferred! };
      } finally {
        await source.close();
      }
    };
    const structure = await budget('structure');
    const structureLog = nginx.takeLog();
    const full = await budget();
    const fullLog = nginx.takeLog();
    // The server saw exactly what the source counted: single ranges, all answered 206.
    expect(structureLog).toHaveLength(structure.requests);
    expect(fullLog).toHaveLength(full.requests);
    expect(fullLog.every((r) => r.status === 206 && /^bytes=\d+-\d+$/.test(r.range))).toBe(true);
    expect(fullLog.reduce((sum, r) => sum + r.bytes, 0)).toBe(full.bytes);
    expect(structure.requests).toBeLessThanOrEqual(3);
    expect(full.requests).toBeLessThanOrEqual(24);
    expect(full.bytes).toBeLessThanOrEqual(1024 * 1024);
    console.log(`windows.img over HTTP: structure ${structure.requests} requests / ${structure.bytes} B; default rules ${full.requests} requests / ${full.bytes} B`);
  });

  it('the CLI gives the file\'s findings, and no output of any read command shows the query', () => {
    const url = withSecret(nginx.url('windows-esp-basic.img'));
    const remote = gptdoctor(['check', url, '--json']);
    const file = gptdoctor(['check', local['windows-esp-basic.img']!, '--json']);
    expect(remote.status).toBe(1); // esp-type is an error
    const codes = (out: string): string[] => (JSON.parse(out) as CheckReport).findings.map((f) => `${f.severity} ${f.code}: ${f.message}`);
    expect(codes(remote.stdout)).toEqual(codes(file.stdout));
    // A URL cannot be written in place: its fix lines write a local copy named after the object.
    const espType = (JSON.parse(remote.stdout) as CheckReport).findings.find((f) => f.code === 'esp-type')!;
    expect(espType.fix).toBe(`gptdoctor set ${nginx.url('windows-esp-basic.img')} 1 --type esp --output windows-esp-basic-fixed.img`);
    const outputs = [
      remote,
      gptdoctor(['check', url]),
      gptdoctor(['inspect', url]),
      gptdoctor(['inspect', url, '--json', '--hexdump']),
      gptdoctor(['scan', url, local['windows.img']!]),
      gptdoctor(['scan', '--json', url]),
      gptdoctor(['recover', url, '--json']),
      gptdoctor(['set', url, '1', '--type', 'esp', '--dry-run', '--json']),
      gptdoctor(['check', withSecret(nginx.url('missing.img'))]),
      gptdoctor(['scan', withSecret(nginx.url('missing.img'))]),
    ];
    for (const { stdout, stderr } of outputs) expect(stdout + stderr).not.toContain('S3CRET');
    expect(outputs[2]!.stdout).toContain(`Disk ${nginx.url('windows-esp-basic.img')}: raw image`);
    expect(outputs[4]!.status).toBe(1);
    expect(outputs[6]!.status).toBe(0);
  });

  it('an unreadable URL is one line on stderr and exit 2', () => {
    const missing = gptdoctor(['check', withSecret(nginx.url('missing.img'))]);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(`gptdoctor: ${nginx.url('missing.img')}: not found (HTTP 404 Not Found)\n`);
    const json = gptdoctor(['inspect', '--json', withSecret(nginx.url('missing.img'))]);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'ENOENT', message: `${nginx.url('missing.img')}: not found (HTTP 404 Not Found)` } });
    expect(json.stderr.split('\n')).toHaveLength(2);
  });

  it('refuses to write over HTTP, and writes a repaired copy with --output', () => {
    const url = withSecret(nginx.url('windows-esp-basic.img'));
    const inPlace = gptdoctor(['set', url, '1', '--type', 'esp', '--yes']);
    expect(inPlace.status).toBe(2);
    expect(inPlace.stderr.trim().split('\n')).toHaveLength(1);
    expect(inPlace.stderr).toContain('cannot be written in place: it is read over HTTP(S)');
    expect(inPlace.stderr).toContain('--output windows-esp-basic-fixed.img');
    const copy = join(dir.path, 'repaired.img');
    const out = gptdoctor(['set', url, '1', '--type', 'esp', '--output', copy, '--yes']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Copied ${nginx.url('windows-esp-basic.img')} to ${copy}`);
    expect(out.stdout + out.stderr).not.toContain('S3CRET');
    const after = gptdoctor(['check', copy, '--json']);
    expect((JSON.parse(after.stdout) as CheckReport).findings.map((f) => f.code)).not.toContain('esp-type');
    const toUrl = gptdoctor(['repair', url, '--output', nginx.url('copy.img'), '--yes']);
    expect(toUrl.status).toBe(2);
    expect(toUrl.stderr).toContain('--output names a new local file');
  });

  it('EROFS when opened for writing; a VMDK descriptor (extents beside it) is refused', async () => {
    await expect(openDisk(withSecret(nginx.url('windows.img')), { writable: true })).rejects.toMatchObject({ code: 'EROFS' });
    const err = await openDisk(nginx.url('windows.vmdk')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskError);
    expect(err).toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('VMDK descriptor read over HTTP(S)') });
  });

  it('a differencing VHDX over HTTP needs --parent, which may be a local path or a URL', async () => {
    // The child fixes the ESP's type over a parent that has it as Basic data (see differencing.test.ts).
    const base = local['windows-esp-basic.img']!;
    const fixed = join(dir.path, 'fixed.img');
    copyFileSync(base, fixed);
    run('sgdisk', ['--typecode=1:EF00', fixed]);
    const parent = join(www, 'parent.vhdx');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', base, parent]);
    run('/usr/bin/python3', [new URL('../scripts/make-differencing.py', import.meta.url).pathname, 'vhdx', parent, base, fixed, join(www, 'child.avhdx')]);
    const child = withSecret(nginx.url('child.avhdx'));
    await expect(checkDisk(child)).rejects.toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('give the parent with --parent PATH or URL') });
    for (const given of [parent, withSecret(nginx.url('parent.vhdx'))]) {
      const report = await checkDisk(child, { parent: given });
      expect(report.source.format).toBe('vhdx');
      expect(report.findings.map((f) => f.code)).not.toContain('esp-type');
      expect(JSON.stringify(report)).not.toContain('S3CRET');
    }
  });

  it('an object replaced while it is being read is ECHANGED (nginx answers the If-Match with 412)', async () => {
    const path = local['windows.img']!;
    const source = await openDisk(nginx.url('windows.img'));
    try {
      await source.read(0, 512); // cached by the first request
      const later = new Date(Date.now() + 60_000);
      utimesSync(path, later, later); // a new Last-Modified, so a new ETag
      await expect(source.read(50 * 1024 * 1024, 512)).rejects.toMatchObject({ code: 'ECHANGED', message: expect.stringContaining('changed while it was being checked') });
    } finally {
      await source.close();
    }
    expect(existsSync(path)).toBe(true);
  });
});
