import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tools.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** What a user gets from npm: the packed tarball installs in an empty project and runs. */
describe('npm package', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('npm pack produces a package that installs and runs from the tarball', () => {
    const env = { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' };
    execFileSync('npm', ['pack', '--pack-destination', dir.path], { cwd: ROOT, env, stdio: 'pipe' });
    const tarball = readdirSync(dir.path).find((f) => f.endsWith('.tgz'))!;
    const project = join(dir.path, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module' }));
    execFileSync('npm', ['install', join(dir.path, tarball)], { cwd: project, env, stdio: 'pipe' });
    const help = execFileSync('npx', ['--no-install', 'gptdoctor', '--help'], { cwd: project, env, encoding: 'utf8' });
    expect(help).toMatch(/Usage: gptdoctor/);
    expect(help).toMatch(/recover/);
    const sample = join(ROOT, 'test/sample/windows-esp-typed-basic.img.gz');
    const api = execFileSync(process.execPath, ['--input-type=module', '-e', `import { checkDisk } from 'gptdoctor'; const r = await checkDisk(${JSON.stringify(sample)}); console.log(r.findings.map((f) => f.code).join(','));`], { cwd: project, encoding: 'utf8' });
    expect(api.trim().split(',')).toContain('esp-type');
  }, 180_000);
});
