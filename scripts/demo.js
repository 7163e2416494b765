#!/usr/bin/env node
// `npm start`: inspects and checks the bundled sample, a Windows disk image whose EFI System
// Partition was retyped "Basic data" (the 0x80070003-0x40008 case). `check` exits 1 on it — that
// is the expected result of the demo, so only a failure to run (exit 2) fails `npm start`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sample = 'test/sample/windows-esp-typed-basic.img.gz';
const gptdoctor = (...args) => spawnSync(process.execPath, ['bin/gptdoctor.js', ...args], { cwd: root, stdio: 'inherit' }).status;

console.log(`$ gptdoctor inspect ${sample}`);
const inspected = gptdoctor('inspect', sample);
console.log(`\n$ gptdoctor check ${sample}`);
const checked = gptdoctor('check', sample);
console.log(
  `\n(check exited ${checked}: 0 = clean, 1 = problems found, 2 = could not run.)\n` +
    'To try the fix, decompress the sample and run the fix line on the copy:\n' +
    `  gunzip -c ${sample} > /tmp/sample.img && node bin/gptdoctor.js set /tmp/sample.img 1 --type esp --yes`,
);
process.exitCode = inspected === 2 || checked === 2 || checked === null ? 2 : 0;
