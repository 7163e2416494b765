import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The package's own entry point (dist/, built by `npm ci`), exactly as a user imports it.
import { applyPlan, checkDisk, inspect, loadGpt, openDisk, planSet } from 'gptdoctor';
import { fixtureFile, sha256File } from './helpers/images.js';
import { tempDir } from './helpers/tools.js';

describe('library API', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('inspects, checks, plans and applies the flagship fix', async () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    expect((await inspect(file)).partitions[0]!.typeName).toBe('Microsoft basic data');
    expect((await checkDisk(file)).findings.map((f) => f.code)).toContain('esp-type');

    const reader = await openDisk(file);
    const plan = await planSet(await loadGpt(reader), 1, { type: 'esp' }, 'library test');
    await reader.close();
    const before = sha256File(file);
    const writer = await openDisk(file, { writable: true });
    const result = await applyPlan(plan, writer, { journalPath: join(dir.path, 'undo.json'), reopen: () => openDisk(file) });
    await writer.close();
    expect(result.problems).toEqual([]);
    expect(sha256File(file)).not.toBe(before);
    expect((await checkDisk(file)).ok).toBe(true);
  });
});
