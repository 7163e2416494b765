import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layering of docs/ARCHITECTURE.md §9 is enforced by eslint.config.js: each rule must fire. */
describe('lint enforces the layering', () => {
  const eslint = new ESLint();
  const problems = async (filePath: string, code: string): Promise<string[]> =>
    (await eslint.lintText(code, { filePath })).flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));

  it('gpt/ and fs/ import no Node module and nothing above them', async () => {
    expect(await problems('src/gpt/x.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n")).toEqual([expect.stringMatching(/no-restricted-imports.*pure codecs/)]);
    expect(await problems('src/fs/x.ts', "import { openDisk } from '../disk/open.js';\nexport const f = openDisk;\n")).toEqual([expect.stringMatching(/bottom layer/)]);
  });

  it('check/, read/ and plan/ never import write/; disk/ imports nothing above it', async () => {
    for (const folder of ['check', 'read', 'plan']) {
      expect(await problems(`src/${folder}/x.ts`, "import { applyPlan } from '../write/apply.js';\nexport const f = applyPlan;\n"), folder).toEqual([expect.stringMatching(/never write|only reads/)]);
    }
    expect(await problems('src/disk/x.ts', "import { loadGpt } from '../read/load-gpt.js';\nexport const f = loadGpt;\n")).toEqual([expect.stringMatching(/knows nothing above it/)]);
    // report/ is the last stage: check/ and plan/ build nothing through it.
    expect(await problems('src/check/x.ts', "import { sourceReport } from '../report/inspect-report.js';\nexport const f = sourceReport;\n")).toEqual([expect.stringMatching(/report\/ is the last stage/)]);
  });

  it('only write/ and disk/ call .write(; the CLI may write to its own streams', async () => {
    const code = 'export async function f(d: { write(o: number, b: Uint8Array): Promise<void> }): Promise<void> {\n  await d.write(0, new Uint8Array(1));\n}\n';
    expect(await problems('src/cli/x.ts', code)).toEqual([expect.stringMatching(/only write\/ and disk\//)]);
    expect(await problems('src/write/x.ts', code)).toEqual([]);
    expect(await problems('src/cli/y.ts', "export function g(): void {\n  process.stdout.write('ok\\n');\n}\n")).toEqual([]);
  });
});
