/**
 * Where undo journals go by default, and how to recognise those names (scan leaves them out).
 * Kept apart from journal.ts so that recognising a name loads nothing else.
 */

/**
 * A default name: the time to the millisecond, then `-N` when that name is taken (two writes in
 * the same millisecond, or in one process). Names from before milliseconds are still recognised.
 */
const DEFAULT_NAME = /(^|[\\/])gptdoctor-undo-[A-Za-z0-9._-]+-\d{8}T\d{6}(\d{3})?Z(-\d+)?\.json$|\.gptdoctor-undo-\d{8}T\d{6}(\d{3})?Z(-\d+)?\.json$/;

/** Whether a file name is one defaultJournalPath() gives (for an image, or for a device). */
export function isDefaultJournalName(path: string): boolean {
  return DEFAULT_NAME.test(path);
}

/**
 * Default journal location: next to an image, or in the current directory for a device.
 * `attempt` counts names already found taken (journal.ts creates with O_EXCL and asks again).
 */
export function defaultJournalPath(diskPath: string, isDevice: boolean, now = new Date(), attempt = 0): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '') + (attempt > 0 ? `-${attempt + 1}` : '');
  if (isDevice) {
    const base = diskPath.replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9._-]/g, '_');
    return `gptdoctor-undo-${base}-${stamp}.json`;
  }
  return `${diskPath}.gptdoctor-undo-${stamp}.json`;
}
