import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import type { CheckReport } from '../src/report/check-report.js';
import { accountSas, blobReadSas } from './helpers/azure-sas.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { startAzurite, type Azurite } from './helpers/servers.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * An Azure page blob holding a fixed VHD (how Azure keeps VM disks), read with a service SAS URL
 * from Azurite, Microsoft's storage emulator: the report must be the local file's, and the SAS
 * signature must appear in no output.
 */

const CONTAINER = 'vhds';
const BLOB = 'windows.vhd';
/** Page writes are at most 4 MiB each. */
const PAGE_WRITE = 4 * 1024 * 1024;

async function azure(url: string, headers: Record<string, string>, body?: Uint8Array): Promise<void> {
  const response = await fetch(url, { method: 'PUT', headers: { 'x-ms-version': '2021-08-06', ...headers }, ...(body ? { body: new Uint8Array(body) } : {}) });
  if (!response.ok) throw new Error(`PUT ${url.replace(/\?.*/, '')}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Creates the container and a page blob holding `bytes`, writing only the 4 MiB pieces that hold data. */
async function uploadPageBlob(accountUrl: string, bytes: Uint8Array): Promise<void> {
  const sas = accountSas();
  await azure(`${accountUrl}/${CONTAINER}?restype=container&${sas}`, { 'content-length': '0' });
  const blobUrl = `${accountUrl}/${CONTAINER}/${BLOB}`;
  await azure(`${blobUrl}?${sas}`, { 'x-ms-blob-type': 'PageBlob', 'x-ms-blob-content-length': String(bytes.length), 'content-length': '0' });
  for (let at = 0; at < bytes.length; at += PAGE_WRITE) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + PAGE_WRITE));
    if (piece.every((b) => b === 0)) continue;
    await azure(`${blobUrl}?comp=page&${sas}`, { 'x-ms-page-write': 'update', 'x-ms-range': `bytes=${at}-${at + piece.length - 1}` }, piece);
  }
}

describe.runIf(haveTools('qemu-img'))('a fixed VHD in an Azure page blob, read with a SAS URL (Azurite)', () => {
  const dir = tempDir('gptdoctor-azurite-');
  let azurite: Azurite;
  let vhd: string;
  let sasUrl: string;
  let signature: string;

  beforeAll(async () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    vhd = join(dir.path, BLOB);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed,force_size=on', raw, vhd]);
    azurite = await startAzurite(join(dir.path, 'azurite'));
    await uploadPageBlob(azurite.accountUrl, new Uint8Array(readFileSync(vhd)));
    const sas = blobReadSas(CONTAINER, BLOB);
    signature = new URLSearchParams(sas).get('sig')!;
    sasUrl = `${azurite.accountUrl}/${CONTAINER}/${BLOB}?${sas}`;
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
    dir.cleanup();
  });

  it('checks as the local VHD does, in few requests', async () => {
    const source = await openDisk(sasUrl);
    let remote: CheckReport;
    try {
      remote = await checkDisk(source);
      expect(source.format).toBe('vhd');
      expect(source.requests).toBeLessThanOrEqual(24);
      expect(source.bytesTransferred).toBeLessThanOrEqual(1024 * 1024);
      console.log(`windows-esp-basic.vhd from Azurite: ${source.requests} requests / ${source.bytesTransferred} B`);
    } finally {
      await source.close();
    }
    const file = await checkDisk(vhd);
    const comparable = (r: CheckReport): object => ({ ...r, source: { ...r.source, path: '' }, findings: r.findings.map((f) => ({ ...f, fix: undefined })) });
    expect(comparable(remote)).toEqual(comparable(file));
    expect(remote.findings.map((f) => f.code)).toContain('esp-type');
    expect(remote.source.path).toBe(`${azurite.accountUrl}/${CONTAINER}/${BLOB}`);
  });

  it('no output of the CLI shows the SAS signature', () => {
    const runs = [gptdoctor(['check', sasUrl, '--json']), gptdoctor(['check', sasUrl]), gptdoctor(['inspect', sasUrl, '--json']), gptdoctor(['set', sasUrl, '1', '--type', 'esp', '--yes'])];
    expect(runs.map((r) => r.status)).toEqual([1, 1, 0, 2]);
    for (const { stdout, stderr } of runs) {
      expect(stdout + stderr).not.toContain(signature);
      expect(stdout + stderr).not.toContain(encodeURIComponent(signature));
      expect(stdout + stderr).not.toContain('sig=');
    }
    const local = gptdoctor(['check', vhd, '--json']);
    const findings = (out: string): string[] => (JSON.parse(out) as CheckReport).findings.map((f) => f.message);
    expect(findings(runs[0]!.stdout)).toEqual(findings(local.stdout));
  });

  it('a SAS URL whose signature is wrong is refused with EACCES, in one line', () => {
    const forged = sasUrl.replace(/sig=[^&]+/, 'sig=AAAAforgedAAAA%3D');
    const result = gptdoctor(['check', forged]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^gptdoctor: http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/vhds\/windows\.vhd: access denied \(HTTP 403[^\n]*signature[^\n]*\n$/);
    expect(result.stderr).not.toContain('forged');
  });
});
