import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskError } from '../src/disk/block-source.js';
import type { HttpOptions } from '../src/disk/http-client.js';
import { HttpSource } from '../src/disk/http-source.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctorAsync } from './helpers/cli.js';
import { fixtureBytes } from './helpers/images.js';
import { prng } from './helpers/tools.js';

/**
 * What a disk read over HTTP does when the server misbehaves, against a tiny Node server whose
 * every answer a test decides: no Range support, 416, a changing ETag, dropped connections, a
 * stall, 5xx, 404, 403, redirects, an object of unknown size. Timeouts and backoffs are short
 * here (options, or GPTDOCTOR_HTTP_* for the CLI) so the file runs in seconds.
 */

const FAST: HttpOptions = { timeoutMs: 300, retry: { tries: 3, baseDelayMs: 5 } };
const FAST_ENV = { GPTDOCTOR_HTTP_TIMEOUT_MS: '300', GPTDOCTOR_HTTP_TRIES: '3', GPTDOCTOR_HTTP_RETRY_DELAY_MS: '5' };

function randomBytes(size: number, seed: number): Uint8Array {
  const random = prng(seed);
  const words = new Uint32Array(Math.ceil(size / 4)).map(() => Math.floor(random() * 2 ** 32));
  return new Uint8Array(words.buffer, 0, size);
}

/** A correct answer to a Range request for `bytes`, with an ETag. */
function serveRange(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, etag = '"v1"'): void {
  const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!match) {
    res.writeHead(200, { 'content-length': bytes.length, etag });
    res.end(Buffer.from(bytes));
    return;
  }
  const start = Number(match[1]);
  const end = Math.min(Number(match[2]) + 1, bytes.length);
  if (start >= bytes.length) {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    res.end();
    return;
  }
  res.writeHead(206, { 'content-range': `bytes ${start}-${end - 1}/${bytes.length}`, 'content-length': end - start, etag });
  res.end(Buffer.from(bytes.subarray(start, end)));
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

describe('disks over HTTP when the server misbehaves', () => {
  let server: Server;
  let base: string;
  let handler: Handler = () => undefined;
  let requests = 0;
  const object = randomBytes(1024 * 1024, 20);
  const url = (name = 'disk.img'): string => `${base}/${name}?se=2099&sig=T0KEN`;
  const serve = (h: Handler): void => {
    requests = 0;
    handler = h;
  };

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res, ++requests));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a server that ignores Range, without reading the whole body', async () => {
    const total = 256 * 1024 * 1024;
    let written = 0;
    let closedEarly = false;
    serve((_req, res) => {
      res.writeHead(200, { 'content-length': total });
      const chunk = Buffer.alloc(1024 * 1024);
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => void (closedEarly = written < total));
      pump();
    });
    const err = await HttpSource.open(url(), FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskError);
    expect(err).toMatchObject({ code: 'ENOTSUP', message: `${base}/disk.img: the server ignores byte ranges (it answered 200 with the whole object instead of 206), and gptdoctor reads a disk over HTTP(S) only by ranges; download it first` });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(true);
    expect(written).toBeLessThan(total / 4);
    written = 0;
    const cli = await gptdoctorAsync(['check', url()], FAST_ENV);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/^gptdoctor: [^\n]*ignores byte ranges[^\n]*\n$/);
    expect(written).toBeLessThan(total / 4);
  });

  it('takes a small object a server sends whole (it fits the first request anyway)', async () => {
    const small = object.subarray(0, 40_000);
    serve((_req, res) => {
      res.writeHead(200, { 'content-length': small.length, etag: '"s"' });
      res.end(Buffer.from(small));
    });
    const source = await HttpSource.open(url(), FAST);
    expect(source.size).toBe(small.length);
    expect(await source.read(30_000, 20_000)).toEqual(small.subarray(30_000));
    expect(source.requests).toBe(1);
  });

  it('a 416 is a clear error; a 416 stating another size is ECHANGED', async () => {
    serve((_req, res) => {
      res.writeHead(416, { 'content-range': 'bytes */12345' });
      res.end();
    });
    await expect(HttpSource.open(url(), FAST)).rejects.toMatchObject({ code: 'EIO', message: `${base}/disk.img: the server refused bytes 0-65535 (HTTP 416 Range Not Satisfiable)` });
    serve((req, res, n) => {
      if (n === 1) return serveRange(req, res, object);
      res.writeHead(416, { 'content-range': 'bytes */4096' });
      res.end();
    });
    const source = await HttpSource.open(url(), FAST);
    await expect(source.read(512 * 1024, 512)).rejects.toMatchObject({ code: 'ECHANGED', message: expect.stringContaining(`its size was ${object.length} bytes, now 4096`) });
  });

  it('an empty object is not a disk', async () => {
    serve((_req, res) => {
      res.writeHead(416, { 'content-range': 'bytes */0' });
      res.end();
    });
    await expect(openDisk(url(), { http: FAST })).rejects.toMatchObject({ code: 'ENOTDISK', message: `${base}/disk.img is empty, not a disk image` });
  });

  it('an ETag that changes between requests is ECHANGED, whether or not the server honours If-Match', async () => {
    serve((req, res, n) => serveRange(req, res, object, `"v${n}"`));
    const source = await HttpSource.open(url(), FAST);
    await expect(source.read(700 * 1024, 512)).rejects.toMatchObject({ code: 'ECHANGED', message: `${base}/disk.img changed while it was being checked (its ETag was "v1", now "v2"): the bytes read would mix two versions of the object, so nothing is reported; check it again` });
    // No ETag at all: Last-Modified is pinned instead.
    serve((req, res, n) => {
      const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
      const [start, end] = [Number(match[1]), Number(match[2]) + 1];
      res.writeHead(206, { 'content-range': `bytes ${start}-${end - 1}/${object.length}`, 'last-modified': n === 1 ? 'Mon, 01 Jan 2024 00:00:00 GMT' : 'Tue, 02 Jan 2024 00:00:00 GMT' });
      res.end(Buffer.from(object.subarray(start, end)));
    });
    const modified = await HttpSource.open(url(), FAST);
    await expect(modified.read(700 * 1024, 512)).rejects.toMatchObject({ code: 'ECHANGED', message: expect.stringContaining('its Last-Modified was Mon, 01 Jan 2024') });
    // A server honouring If-Match answers 412.
    serve((req, res, n) => {
      if (n > 1 && req.headers['if-match'] === '"v1"') {
        res.writeHead(412);
        return void res.end();
      }
      serveRange(req, res, object);
    });
    const conditional = await HttpSource.open(url(), FAST);
    await expect(conditional.read(700 * 1024, 512)).rejects.toMatchObject({ code: 'ECHANGED' });
  });

  it('a connection dropped mid-response is resumed; one that always drops ends in EIO', async () => {
    serve((req, res, n) => {
      if (n !== 2) return serveRange(req, res, object);
      // Headers and half the body, then the connection goes.
      const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
      const [start, end] = [Number(match[1]), Number(match[2]) + 1];
      res.writeHead(206, { 'content-range': `bytes ${start}-${end - 1}/${object.length}`, 'content-length': end - start, etag: '"v1"' });
      res.write(Buffer.from(object.subarray(start, start + (end - start) / 2)), () => res.socket?.destroy());
    });
    const source = await HttpSource.open(url(), FAST);
    expect(await source.read(300 * 1024, 20 * 1024)).toEqual(object.subarray(300 * 1024, 320 * 1024));
    expect(source.requests).toBe(3);
    serve((req, res, n) => (n === 1 ? serveRange(req, res, object) : req.socket.destroy()));
    const dropping = await HttpSource.open(url(), FAST);
    await expect(dropping.read(300 * 1024, 512)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(new RegExp(`^cannot read ${base}/disk.img: the (connection was reset|server closed the connection|connection failed)[^\\n]* \\(3 tries\\)$`)) });
    expect(requests).toBe(4);
  });

  it('a stalled response times out and is tried again', async () => {
    serve((req, res, n) => {
      if (n === 2) return; // never answers
      serveRange(req, res, object);
    });
    const source = await HttpSource.open(url(), FAST);
    const started = Date.now();
    expect(await source.read(500 * 1024, 512)).toEqual(object.subarray(500 * 1024, 500 * 1024 + 512));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    serve(() => undefined);
    await expect(HttpSource.open(url(), FAST)).rejects.toMatchObject({ code: 'EIO', message: `cannot read ${base}/disk.img: nothing arrived for 300 ms (3 tries)` });
  });

  it('5xx is tried again with backoff, and gives up in one EIO line', async () => {
    serve((req, res, n) => {
      if (n === 2 || n === 3) {
        res.writeHead(n === 2 ? 503 : 500);
        return void res.end('busy');
      }
      serveRange(req, res, object);
    });
    const source = await HttpSource.open(url(), FAST);
    expect(await source.read(900 * 1024, 100)).toEqual(object.subarray(900 * 1024, 900 * 1024 + 100));
    expect(source.requests).toBe(4);
    serve((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    await expect(HttpSource.open(url(), FAST)).rejects.toMatchObject({ code: 'EIO', message: `cannot read ${base}/disk.img: the server answered HTTP 502 Bad Gateway (3 tries)` });
  });

  it('404 is ENOENT and 403 says the signature may have expired, in one line without the query', async () => {
    serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const missing = await gptdoctorAsync(['check', url()], FAST_ENV);
    expect([missing.status, missing.stderr]).toEqual([2, `gptdoctor: ${base}/disk.img: not found (HTTP 404 Not Found)\n`]);
    serve((_req, res) => {
      res.writeHead(403);
      res.end('<Error><Code>AuthenticationFailed</Code></Error>');
    });
    const denied = await gptdoctorAsync(['check', '--json', url()], FAST_ENV);
    expect(denied.status).toBe(2);
    expect(JSON.parse(denied.stdout).error.code).toBe('EACCES');
    expect(denied.stderr).toBe(`gptdoctor: ${base}/disk.img: access denied (HTTP 403 Forbidden): the URL's signature (S3 presigned URL, Azure SAS token) may have expired or not grant read access; make a new URL\n`);
    for (const r of [missing, denied]) expect(r.stdout + r.stderr).not.toContain('T0KEN');
  });

  it('follows redirects, reads a size it must ask for with HEAD, and sends userinfo as Basic auth', async () => {
    const disk = fixtureBytes('windows-esp-basic');
    let authorization: string | undefined;
    serve((req, res) => {
      if (req.url!.startsWith('/moved')) {
        res.writeHead(302, { location: `/real.img${req.url!.slice('/moved'.length)}` });
        return void res.end();
      }
      authorization = req.headers.authorization;
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-length': disk.length, etag: '"d"' });
        return void res.end();
      }
      const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
      const [start, end] = [Number(match[1]), Math.min(disk.length, Number(match[2]) + 1)];
      res.writeHead(206, { 'content-range': `bytes ${start}-${end - 1}/*`, 'content-length': end - start, etag: '"d"' });
      res.end(Buffer.from(disk.subarray(start, end)));
    });
    const source = await openDisk(url('moved').replace('http://', 'http://user:pa%40ss@'), { http: FAST });
    try {
      expect(source.size).toBe(disk.length);
      expect(source.path).toBe(`${base}/moved`);
      expect(authorization).toBe(`Basic ${Buffer.from('user:pa@ss').toString('base64')}`);
    } finally {
      await source.close();
    }
  });

  it('the CLI takes its timeout and retries from the environment', async () => {
    serve(() => undefined);
    const started = Date.now();
    const result = await gptdoctorAsync(['inspect', url()], FAST_ENV);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`gptdoctor: cannot read ${base}/disk.img: nothing arrived for 300 ms (3 tries)\n`);
    expect(Date.now() - started).toBeLessThan(10_000);
    const bad = await gptdoctorAsync(['inspect', url()], { GPTDOCTOR_HTTP_TIMEOUT_MS: 'soon' });
    expect(bad.stderr).toBe('gptdoctor: GPTDOCTOR_HTTP_TIMEOUT_MS must be a whole number from 1 (got soon)\n');
  });
});
