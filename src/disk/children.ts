import { readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Differencing images are usually kept beside their parent (Hyper-V's .avhdx checkpoints). */
const DIFFERENCING_NAMES = /\.(vhd|vhdx|avhd|avhdx)$/i;
/** A directory with more candidates than this is not searched further (bounded work). */
const MAX_CANDIDATES = 256;

/**
 * The differencing images in the directory of `imagePath` whose parent is that image. A write to
 * a parent changes what every child reads (and, for VHDX, its DataWriteGuid, after which Hyper-V
 * refuses the child), so the write commands refuse such a parent. Only the image's own directory
 * is searched; a child elsewhere cannot be known.
 */
export async function differencingChildren(imagePath: string): Promise<string[]> {
  const { openDisk } = await import('./open.js'); // open.ts reaches this module's callers
  const self = await realpath(imagePath).catch(() => imagePath);
  const dir = dirname(imagePath);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => DIFFERENCING_NAMES.test(n)).slice(0, MAX_CANDIDATES);
  const children: string[] = [];
  for (const name of names) {
    const candidate = join(dir, name);
    if ((await realpath(candidate).catch(() => candidate)) === self) continue;
    try {
      const source = await openDisk(candidate);
      const parent = source.containerInfo?.parent;
      await source.close();
      if (typeof parent === 'string' && (await realpath(parent).catch(() => parent)) === self) children.push(candidate);
    } catch {
      // not a readable image, or a child of another parent
    }
  }
  return children;
}
