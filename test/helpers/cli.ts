import { spawn, spawnSync } from 'node:child_process';

const BIN = new URL('../../bin/gptdoctor.js', import.meta.url).pathname;

/** Runs the built CLI (bin/gptdoctor.js → dist/) the way a user does, without colour. */
export function gptdoctor(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI as a child process that does not block this one: for a server running inside the test
 * process (spawnSync would stop it from answering). `env` is added to the environment.
 */
export function gptdoctorAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => void (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => void (stderr += text));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}
