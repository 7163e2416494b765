import { displayPath } from '../disk/url-redact.js';

/** Small text helpers shared by the human renderers. */

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Lays out rows as columns; `align` has 'r' for right-aligned columns. */
export function table(rows: string[][], align: string = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - displayWidth(cell));
        if (i === row.length - 1 && align[i] !== 'r') return cell;
        return align[i] === 'r' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

/** Terminal columns a string takes: East Asian wide characters count twice. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    width += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd) ? 2 : 1;
  }
  return width;
}

/** ANSI colour, only on a TTY and only when NO_COLOR is unset (https://no-color.org). */
export function colorizer(stream: NodeJS.WriteStream): (code: 'red' | 'yellow' | 'green' | 'cyan' | 'bold' | 'dim', text: string) => string {
  const on = Boolean(stream.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
  const codes = { red: 31, yellow: 33, green: 32, cyan: 36, bold: 1, dim: 2 } as const;
  return (code, text) => (on ? `\x1b[${codes[code]}m${text}\x1b[0m` : text);
}

/**
 * The command line as typed, for a plan's `command` (shown in --json and kept in the undo file):
 * a URL argument without its query, which may hold a signature.
 */
export function typedCommand(name: string): string {
  return `gptdoctor ${name} ${process.argv.slice(3).map(displayPath).join(' ')}`;
}
