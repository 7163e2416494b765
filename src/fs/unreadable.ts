/**
 * A volume or file structure that cannot be read safely: a boot sector that is not the filesystem
 * it claims, a record whose fixups fail, a runlist that leaves the volume, an index or a hive list
 * that loops. `reason` is one line that says which structure and why, for a finding's detail. The
 * fs/ readers (FAT, NTFS, regf) throw nothing else on their own account; errors from the
 * ByteReader itself pass through, and anything else is a bug.
 */
export class VolumeUnreadable extends Error {
  override readonly name = 'VolumeUnreadable';

  constructor(readonly reason: string) {
    super(reason);
  }
}
