import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/**
 * Real HTTP servers on loopback for the tests of disks read over HTTP(S): nginx serving a
 * directory, and Azurite (Microsoft's Azure Storage emulator) serving blobs. Each is started on
 * a free port with its files in a temporary directory, and stopped by the test's afterAll.
 */

/** A port nothing listens on now (the OS picks it; a race with another process is unlikely). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `port` accepts connections, or fails after `ms`, or as soon as `child` exits. */
async function waitForPort(port: number, child: ChildProcess, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with status ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on port ${port} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timeout = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timeout);
}

/** One request nginx logged: its status, the Range asked for, and the body bytes sent. */
export interface LoggedRequest {
  status: number;
  range: string;
  bytes: number;
}

export interface Nginx {
  /** The URL of a file in the served directory. */
  url(name: string): string;
  /** The requests logged since the last call (or the start). */
  takeLog(): LoggedRequest[];
  stop(): Promise<void>;
}

/**
 * nginx (the Debian package) serving `root` on 127.0.0.1 with a generated minimal configuration,
 * in the foreground (`daemon off`), its logs and temporary files under `prefix`. Its access log
 * records each request's status, Range and bytes, so a test can count what a check asked for.
 */
export async function startNginx(root: string, prefix: string): Promise<Nginx> {
  const port = await freePort();
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const accessLog = join(prefix, 'access.log');
  writeFileSync(accessLog, '');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(prefix, 'tmp', t)};`).join('\n');
  const config = join(prefix, 'nginx.conf');
  writeFileSync(
    config,
    [
      // As root, workers would run as nobody and could not read a 0700 temporary directory.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      `error_log ${join(prefix, 'error.log')} warn;`,
      `pid ${join(prefix, 'nginx.pid')};`,
      'events { worker_connections 64; }',
      'http {',
      '  log_format ranges "$status|$http_range|$body_bytes_sent";',
      `  access_log ${accessLog} ranges;`,
      temp,
      '  default_type application/octet-stream;',
      '  keepalive_timeout 5;',
      `  server { listen 127.0.0.1:${port}; root ${root}; }`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('nginx', ['-c', config, '-p', prefix, '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
  try {
    await waitForPort(port, child, 'nginx');
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  let taken = 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    takeLog: () => {
      const lines = readFileSync(accessLog, 'utf8').split('\n').filter(Boolean);
      const fresh = lines.slice(taken);
      taken = lines.length;
      return fresh.map((line) => {
        const [status, range, bytes] = line.split('|');
        return { status: Number(status), range: range ?? '', bytes: Number(bytes) };
      });
    },
    stop: () => stopChild(child),
  };
}

export interface Azurite {
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  accountUrl: string;
  stop(): Promise<void>;
}

/** Azurite's blob service (npm azurite, pinned for Node 20) on a free port, its data under `location`. */
export async function startAzurite(location: string): Promise<Azurite> {
  const port = await freePort();
  const main = new URL('../../node_modules/azurite/dist/src/blob/main.js', import.meta.url).pathname;
  const args = [main, '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--location', location, '--blobHost', '127.0.0.1', '--blobPort', String(port)];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    await waitForPort(port, child, 'azurite-blob');
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { accountUrl: `http://127.0.0.1:${port}/devstoreaccount1`, stop: () => stopChild(child) };
}
