#!/usr/bin/env node
// A static file server for the remote-scan benchmark (scripts/bench-remote.js): single-range GETs
// as S3 or nginx answer them, each answered only after DELAY_MS, as a storage account some way off
// would. It counts requests and bytes, and prints them as JSON on stdout at SIGTERM.
//
//   node scripts/bench-http-server.js ROOT DELAY_MS PORT_FILE
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

const [root, delayText, portFile] = process.argv.slice(2);
const delay = Number(delayText);
const stats = { requests: 0, bytes: 0, byPath: {} };

const server = createServer((req, res) => {
  stats.requests++;
  const name = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(root, name);
  setTimeout(() => {
    let info;
    try {
      info = statSync(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers = { ETag: etag, 'Accept-Ranges': 'bytes', 'Last-Modified': info.mtime.toUTCString() };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'Content-Length': info.size }).end();
    if (!range) {
      res.writeHead(200, { ...headers, 'Content-Length': info.size });
      return void createReadStream(file).on('data', (c) => (stats.bytes += c.length)).pipe(res);
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : info.size - 1, info.size - 1);
    if (start >= info.size) return void res.writeHead(416, { 'Content-Range': `bytes */${info.size}` }).end();
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${info.size}`, 'Content-Length': end - start + 1 });
    createReadStream(file, { start, end }).on('data', (c) => (stats.bytes += c.length)).pipe(res);
  }, delay);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
});
