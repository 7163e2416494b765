import type { DecompressProgress, DecompressState } from '../disk/decompress.js';
import { formatBytes } from './format.js';

/**
 * A progress line on standard error while a compressed image is decompressed, only when
 * standard error is a terminal (never in pipes, logs or JSON consumers), redrawn at most ten
 * times a second and erased when done, so the command's own output follows on a clean line.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): DecompressProgress | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let shown = false;
  return (state: DecompressState) => {
    if (state.done) {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      return;
    }
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    shown = true;
    stream.write(`\r\x1b[K${progressLine(state)}`);
  };
}

export function progressLine(state: DecompressState): string {
  const percent = state.total ? Math.min(100, Math.floor((state.read / state.total) * 100)) : 0;
  return `decompressing ${state.path} (${state.compression}): ${percent}% of ${formatBytes(state.total)} read, ${formatBytes(state.produced)} out`;
}

/** How the CLI opens a disk it names: --parent when given, and a progress line on a terminal. */
export function cliOpenOptions(parent: string | undefined): { parent?: string; progress?: DecompressProgress } {
  const progress = terminalProgress();
  return { ...(parent ? { parent } : {}), ...(progress ? { progress } : {}) };
}

/** A "what: N%" line on a terminal for a long copy, erased at 100%. */
export function percentOnTerminal(what: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => void process.stderr.write(`\r${what}: ${Math.floor((done / total) * 100)}%${done >= total ? '\r\x1b[K' : ''}`);
}
