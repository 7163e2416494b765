// The remote-scan rows of `npm run bench` (issue #20): 50 images behind a server that answers each
// request after 20 ms (scripts/bench-http-server.js), scanned by URL, against what a user does
// without gptdoctor (download each image whole with curl, then sgdisk -v) and against the serial
// lower bound of any tool that reads the GPT itself: 2 round trips per image (head and tail), one
// image after another. The server counts requests and bytes, so the rows also show the budget of
// each check (at most 3 requests for --profile structure; 24 requests and 1 MiB for the default rules).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const URLS = 50;
const DELAY_MS = 20;

async function withServer(root, work, run) {
  const portFile = join(work, 'port');
  rmSync(portFile, { force: true });
  const server = spawn(process.execPath, [new URL('./bench-http-server.js', import.meta.url).pathname, root, String(DELAY_MS), portFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout.on('data', (c) => (out += c));
  const exited = new Promise((resolve) => server.on('exit', resolve));
  for (let i = 0; i < 200 && !existsSync(portFile); i++) execFileSync('sleep', ['0.05']);
  const base = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}`;
  const ms = run(base);
  server.kill('SIGTERM');
  await exited;
  return { ms, ...JSON.parse(out) };
}

/**
 * Rows in bench.js's shape ([name, ms, [[peer, ms]]]) and the budget figures. `image` is the
 * 4-partition Windows image the rows serve 50 copies of; `time(cmd, runs)` is bench.js's timer.
 */
export async function remoteRows({ gd, tmp, image, time }) {
  const work = join(tmp, 'remote');
  const www = join(work, 'www');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(www, { recursive: true });
  const names = Array.from({ length: URLS }, (_, i) => `disk-${String(i).padStart(2, '0')}.img`);
  for (const name of names) execFileSync('cp', ['--sparse=always', image, join(www, name)]);
  const list = join(work, 'urls.txt');
  const urls = (base) => names.map((n) => `${base}/${n}?sig=bench`).join('\n') + '\n';

  const scan = (profile) => withServer(www, work, (base) => {
    writeFileSync(list, urls(base));
    return time(`${gd} scan --json ${profile ? `--profile ${profile} ` : ''}--from-file ${list} > /dev/null 2>&1`);
  });
  const structure = await scan('structure');
  const rules = await scan(undefined);
  const download = join(work, 'download.img');
  const peer = await withServer(www, work, (base) => {
    writeFileSync(list, urls(base));
    return time(`while read -r u; do curl -sf -o ${download} "$u" && sgdisk -v ${download} > /dev/null; done < ${list}; rm -f ${download}`);
  });
  rmSync(work, { recursive: true, force: true });
  const serialBound = URLS * 2 * DELAY_MS;
  const perImage = (s) => ({ requests: s.requests / URLS, bytes: s.bytes / URLS });
  return {
    rows: [
      [`scan --profile structure of ${URLS} URLs (${DELAY_MS} ms per request)`, structure.ms, [['curl of each whole image + sgdisk -v', peer.ms], ['serial lower bound (2 round trips per image)', serialBound]]],
      [`scan of ${URLS} URLs, default rules (${DELAY_MS} ms per request)`, rules.ms, [['curl of each whole image + sgdisk -v', peer.ms], ['serial lower bound (2 round trips per image)', serialBound]]],
    ],
    budget: { structure: perImage(structure), rules: perImage(rules), peer: perImage(peer) },
  };
}
