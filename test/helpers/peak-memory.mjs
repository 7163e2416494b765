// Runs the CLI (bin/gptdoctor.js) with the arguments given, and at exit writes the process's peak
// resident memory to standard error as "MAXRSS <KiB>": VmHWM of /proc/self/status, which belongs
// to this process's own address space (getrusage's maxRSS carries a forked parent's peak over exec).
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  const peak = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  process.stderr.write(`\nMAXRSS ${peak}\n`);
});
await import(new URL('../../bin/gptdoctor.js', import.meta.url).href);
