/**
 * Where undo journals go by default, and how to recognise those names (scan leaves them out).
 * Kept apart from journal.ts so that recognising a name loads nothing else.
 */

/** Whether a file name is one defaultJournalPath() gives (for an image, or for a device). */
export function isDefaultJournalName(path: string): boolean {
  return /(^|[\\/])gptdoctor-undo-[A-Za-z0-9._-]+-\d{8}T\d{6}Z\.json$|\.gptdoctor-undo-\d{8}T\d{6}Z\.json$/.test(path);
}

/** Default journal location: next to an image, or in the current directory for a device. */
export function defaultJournalPath(diskPath: string, isDevice: boolean, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  if (isDevice) {
    const base = diskPath.replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9._-]/g, '_');
    return `gptdoctor-undo-${base}-${stamp}.json`;
  }
  return `${diskPath}.gptdoctor-undo-${stamp}.json`;
}
