/**
 * A guard that walks the frames of a Zstandard stream (RFC 8878, section 3.1) as its bytes go
 * by, without decompressing anything, so that each frame's window size is known before the
 * decoder allocates it. fzstd allocates whatever window a frame header declares (up to 2 GiB);
 * a hostile header would otherwise decide how much memory gptdoctor takes.
 *
 * The limit is the zstd tool's own default (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27, 128 MiB): a
 * frame that needs more is one `zstd -d` also refuses without `--long=31`.
 */
export const MAX_ZSTD_WINDOW = 128 * 1024 * 1024;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

type State =
  | { at: 'magic' }
  | { at: 'frame-header'; need: number }
  | { at: 'block-header'; checksum: boolean }
  | { at: 'skip'; left: number; then: State };

export class ZstdFrameGuard {
  private state: State = { at: 'magic' };
  /** Bytes carried over from the last chunk: a header split across chunks (at most 18 bytes). */
  private carry = new Uint8Array(0);

  /**
   * Takes the next compressed bytes; throws an Error (with a sentence) when a frame declares a
   * window above MAX_ZSTD_WINDOW or the framing itself is broken.
   */
  push(chunk: Uint8Array): void {
    const bytes = this.carry.length ? concat(this.carry, chunk) : chunk;
    let pos = 0;
    for (;;) {
      const s = this.state;
      if (s.at === 'skip') {
        const take = Math.min(s.left, bytes.length - pos);
        pos += take;
        if (take < s.left) {
          this.state = { ...s, left: s.left - take };
          break;
        }
        this.state = s.then;
        continue;
      }
      const need = s.at === 'magic' ? 4 : s.at === 'block-header' ? 3 : s.need;
      if (bytes.length - pos < need) break;
      const v = new DataView(bytes.buffer, bytes.byteOffset + pos, bytes.length - pos);
      if (s.at === 'magic') {
        const magic = v.getUint32(0, true);
        if (magic === FRAME_MAGIC) {
          if (bytes.length - pos < 6) break; // descriptor and window byte decide the header size
          this.state = { at: 'frame-header', need: frameHeaderSize(bytes[pos + 4]!) };
        } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
          if (bytes.length - pos < 8) break;
          const left = v.getUint32(4, true);
          pos += 8;
          this.state = { at: 'skip', left, then: { at: 'magic' } };
        } else {
          throw new Error('a zstd frame does not start with the zstd magic number');
        }
        continue;
      }
      if (s.at === 'frame-header') {
        const descriptor = bytes[pos + 4]!;
        if (descriptor & 0x08) throw new Error('a zstd frame header sets its reserved bit');
        const window = windowSize(bytes.subarray(pos, pos + s.need));
        if (window > MAX_ZSTD_WINDOW) {
          throw new Error(`a zstd frame needs a ${Math.round(window / 1048576)} MiB window, above the ${MAX_ZSTD_WINDOW / 1048576} MiB zstd itself allows without --long=31; decompress it with "zstd -d --long=31" first`);
        }
        pos += s.need;
        this.state = { at: 'block-header', checksum: (descriptor & 0x04) !== 0 };
        continue;
      }
      // A block header: bit 0 last block, bits 1-2 type (1 = RLE: one byte stored), bits 3-23 size.
      const header = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16);
      const type = (header >> 1) & 3;
      if (type === 3) throw new Error('a zstd block has the reserved block type');
      const stored = type === 1 ? 1 : header >>> 3;
      pos += 3;
      const last = (header & 1) === 1;
      const next: State = last ? (s.checksum ? { at: 'skip', left: 4, then: { at: 'magic' } } : { at: 'magic' }) : s;
      this.state = { at: 'skip', left: stored, then: next };
    }
    this.carry = bytes.slice(pos);
  }
}

/**
 * The length of the one zstd frame at the start of `bytes` (header, blocks, checksum), or
 * undefined when `bytes` ends before it does. What follows the frame is not looked at.
 */
export function zstdFrameLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 6 || new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) !== FRAME_MAGIC) return undefined;
  const descriptor = bytes[4]!;
  let at = frameHeaderSize(descriptor);
  for (;;) {
    if (at + 3 > bytes.length) return undefined;
    const header = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    const type = (header >> 1) & 3;
    if (type === 3) return undefined;
    at += 3 + (type === 1 ? 1 : header >>> 3);
    if (header & 1) break;
  }
  at += descriptor & 0x04 ? 4 : 0;
  return at <= bytes.length ? at : undefined;
}

/** The fields of a Frame_Header_Descriptor (RFC 8878 §3.1.1.1.1) that size the header. */
function descriptorFields(descriptor: number): { singleSegment: boolean; dictionaryBytes: number; contentBytes: number } {
  const singleSegment = ((descriptor >> 5) & 1) === 1;
  const contentFlag = descriptor >> 6;
  return {
    singleSegment,
    dictionaryBytes: [0, 1, 2, 4][descriptor & 3]!,
    // Flag 0 means no content size, except that a single-segment frame then stores it in 1 byte.
    contentBytes: contentFlag === 0 ? (singleSegment ? 1 : 0) : 1 << contentFlag,
  };
}

/** Frame_Header size: 4 (magic) + 1 descriptor + window byte + dictionary id + content size. */
function frameHeaderSize(descriptor: number): number {
  const { singleSegment, dictionaryBytes, contentBytes } = descriptorFields(descriptor);
  return 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentBytes;
}

/** The window a frame needs: its Window_Descriptor, or its content size when single-segment. */
function windowSize(header: Uint8Array): number {
  const { singleSegment, dictionaryBytes, contentBytes } = descriptorFields(header[4]!);
  if (!singleSegment) {
    const exponent = header[5]! >> 3;
    const base = 2 ** (10 + exponent);
    return base + (base / 8) * (header[5]! & 7);
  }
  const at = 5 + dictionaryBytes;
  let size = 0;
  for (let i = contentBytes - 1; i >= 0; i--) size = size * 256 + header[at + i]!;
  // A 2-byte content size is stored minus 256 (RFC 8878 §3.1.1.1.4).
  return contentBytes === 2 ? size + 256 : size;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
