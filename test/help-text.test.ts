// `--help` is where a user learns a command, so its prose must read as prose: commander wraps a
// description to the terminal's width (80 columns without one), and a hard line break inside it
// left a short line after every wrapped one ("…for 512-" / "and 4096-byte" / "sectors…").
import { describe, expect, it } from 'vitest';
import { gptdoctor } from './helpers/cli.js';

const COMMANDS = ['inspect', 'check', 'scan', 'set', 'repair', 'undo', 'recover', 'drives'];

/** The lines between "Usage:" and the first section after it (Arguments:, Options:). */
function descriptionLines(help: string): string[] {
  const lines = help.split('\n');
  const end = lines.findIndex((l, i) => i > 0 && /^[A-Z][a-z]+:$/.test(l));
  return lines.slice(1, end).filter((l) => l.trim() !== '');
}

describe('--help', () => {
  it.each(COMMANDS)('%s: the description fills each line it wraps, up to its last', (command) => {
    const { status, stdout } = gptdoctor([command, '--help']);
    expect(status).toBe(0);
    const lines = descriptionLines(stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines.slice(0, -1)) expect(line.length, `short line in ${command} --help: "${line}"`).toBeGreaterThan(60);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });
});
