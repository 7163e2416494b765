import { spawnSync } from 'node:child_process';

const BIN = new URL('../../bin/gptdoctor.js', import.meta.url).pathname;

/** Runs the built CLI (bin/gptdoctor.js → dist/) the way a user does, without colour. */
export function gptdoctor(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
