/** A volume or file structure that cannot be read, with a one-line reason (hostile or damaged bytes). */
export class VolumeUnreadable extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'VolumeUnreadable';
    this.reason = reason;
  }
}
