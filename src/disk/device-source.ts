import { createRequire } from 'node:module';
import { DiskError, systemErrorCode, type BlockSource, type PartitionExtent, type RereadResult } from './block-source.js';
import { embeddedAddonFile } from './embedded-addon.js';

/** The napi-rs addon's surface, as napi-rs generates it from native/src/lib.rs (ts_return_type). */
type NativeAddon = Pick<typeof import('../../native/index.js'), 'openDevice' | 'listDrives' | 'dataRanges' | 'searchFile'>;
type NativeDevice = import('../../native/index.js').NativeDevice;
export type NativeDrive = import('../../native/index.js').Drive;

let addon: NativeAddon | undefined;

/**
 * Loads native/ (built by `npm ci` when cargo is present, or `npm run build:native`), or in a
 * single executable the copy embedded in it.
 */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const embedded = embeddedAddonFile();
  if (embedded === '') {
    throw new DiskError(
      'ENOADDON',
      'raw devices need the native addon, and this gptdoctor executable was built without it; rebuild it with `node scripts/build-sea.js --addon <gptdoctor.*.node>`. Image files work without it.',
    );
  }
  try {
    if (embedded) {
      const module = { exports: {} };
      process.dlopen(module, embedded);
      addon = module.exports as NativeAddon;
    } else {
      addon = createRequire(import.meta.url)('../../native/index.js') as NativeAddon;
    }
    return addon;
  } catch (err) {
    throw new DiskError(
      'ENOADDON',
      `raw devices need gptdoctor's native addon, which is not built for this machine (${(err as Error).message.split('\n')[0]}); install Rust (cargo) and run \`npm run build:native\`. Image files work without it.`,
    );
  }
}

/** Turns "EBUSY: what: why" from the addon into a DiskError with that code. */
export function nativeError(err: unknown, path: string): DiskError {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(E[A-Z]+): (.*)$/s.exec(message);
  const code = systemErrorCode({ code: m?.[1] });
  const hints: Record<string, string> = {
    EBUSY: ' — the device is busy: a partition on it is mounted or another program holds it open exclusively; unmount it first',
    EACCES: ' — run as root (Linux) or as Administrator (Windows)',
    EPERM: ' — run as root (Linux) or as Administrator (Windows)',
    EROFS: ' — the device is read-only',
  };
  return new DiskError(code, `${path}: ${m?.[2] ?? message}${hints[code] ?? ''}`);
}

/** A block device through the native addon: the OS says its size and sector sizes. */
export class DeviceSource implements BlockSource {
  readonly format = 'device' as const;
  private read_ = 0;

  private constructor(
    readonly path: string,
    private readonly device: NativeDevice,
    readonly writable: boolean,
  ) {}

  static async open(path: string, options: { writable?: boolean } = {}): Promise<DeviceSource> {
    const native = loadAddon();
    const writable = options.writable ?? false;
    let device: NativeDevice;
    try {
      device = await native.openDevice(path, writable);
    } catch (err) {
      throw nativeError(err, path);
    }
    if (writable && device.readOnly) {
      device.close();
      throw new DiskError('EROFS', `${path} is read-only (write-protected)`);
    }
    return new DeviceSource(path, device, writable);
  }

  get size(): number {
    return this.device.size;
  }
  get declaredSectorSize(): number {
    return this.device.logicalSectorSize;
  }
  get physicalSectorSize(): number {
    return this.device.physicalSectorSize;
  }
  get bytesRead(): number {
    return this.read_;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    try {
      const data = await this.device.read(offset, Math.max(0, Math.min(length, this.size - offset)));
      this.read_ += data.length;
      return new Uint8Array(data.buffer, data.byteOffset, data.length);
    } catch (err) {
      throw nativeError(err, this.path);
    }
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    await this.device.write(offset, Buffer.from(data.buffer, data.byteOffset, data.length)).catch((err: unknown) => {
      throw nativeError(err, this.path);
    });
  }

  async flush(): Promise<void> {
    await this.device.flush().catch((err: unknown) => {
      throw nativeError(err, this.path);
    });
  }

  /**
   * Makes the OS read the new partition table (BLKRRPART, IOCTL_DISK_UPDATE_PROPERTIES); on
   * Linux, when a partition is open, the kernel is told of each change in `table` instead (BLKPG).
   */
  async rereadPartitionTable(table: PartitionExtent[]): Promise<RereadResult> {
    return this.device.rereadPartitions(table).catch((err: unknown) => {
      throw nativeError(err, this.path);
    });
  }

  async close(): Promise<void> {
    this.device.close();
  }
}
