/**
 * Signatures of files gptdoctor knows but cannot read as a disk. Each is refused by name
 * (EFORMAT) with what to do instead, rather than read as a raw disk whose "sector 0" is a
 * container header: that would report a damaged GPT on a disk that may be healthy.
 *
 * A file whose LBA 1 (at 512 or 4096 bytes) holds "EFI PART" is a raw disk whatever its first
 * bytes are (see startsWithGptHeader), so boot code that happens to begin like one of these is
 * never refused.
 */
interface Signature {
  /** What the file is, as a sentence ending: "<path> is …". */
  name: string;
  matches: (head: Uint8Array, tail: Uint8Array) => boolean;
}

const ascii = (bytes: Uint8Array, from: number, text: string): boolean => {
  if (from < 0 || from + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[from + i] !== text.charCodeAt(i)) return false;
  return true;
};
const u32le = (bytes: Uint8Array, at: number): number => (at + 4 <= bytes.length ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true) : -1);

const SIGNATURES: Signature[] = [
  { name: 'bzip2-compressed, which gptdoctor does not decompress; decompress it first (bunzip2 -k), or recompress it with xz or zstd', matches: (h) => ascii(h, 0, 'BZh') && h[3]! >= 0x31 && h[3]! <= 0x39 && ascii(h, 4, '1AY&SY') },
  { name: 'lz4-compressed, which gptdoctor does not decompress; decompress it first (lz4 -d)', matches: (h) => u32le(h, 0) === 0x184d2204 },
  { name: 'lzip-compressed, which gptdoctor does not decompress; decompress it first (lzip -d)', matches: (h) => ascii(h, 0, 'LZIP') },
  { name: 'a ZIP archive, not a disk image; extract the image from it first', matches: (h) => ascii(h, 0, 'PK\x03\x04') },
  { name: 'a 7-Zip archive, not a disk image; extract the image from it first', matches: (h) => ascii(h, 0, '7z\xbc\xaf\x27\x1c') },
  { name: 'a tar archive, not a disk image; extract the image from it first', matches: (h) => ascii(h, 257, 'ustar') },
  { name: 'a VirtualBox VDI image, which gptdoctor cannot read; convert it first (qemu-img convert -O raw, or VBoxManage clonemedium --format RAW)', matches: (h) => u32le(h, 0x40) === 0xbeda107f },
  { name: 'a QED image, which gptdoctor cannot read; convert it first (qemu-img convert -O raw)', matches: (h) => ascii(h, 0, 'QED\x00') },
  { name: 'a Parallels disk image, which gptdoctor cannot read; convert it first (qemu-img convert -O raw)', matches: (h) => ascii(h, 0, 'WithoutFreeSpace') || ascii(h, 0, 'WithouFreSpacExt') },
  { name: 'a VMware ESX "COWD" sparse extent (ESX 2/3 snapshots), which gptdoctor cannot read; clone the disk first (vmkfstools -i, or qemu-img convert -O raw)', matches: (h) => ascii(h, 0, 'COWD') },
  { name: 'an EnCase/EWF evidence file (E01), which gptdoctor cannot read; give it the raw image (ewfexport -f raw, or ewfmount and the ewf1 file)', matches: (h) => ascii(h, 0, 'EVF\x09\x0d\x0a\xff\x00') || ascii(h, 0, 'EVF2\x0d\x0a\x81\x00') },
  { name: 'an AFF evidence file, which gptdoctor cannot read; give it the raw image (affconvert -r, or affuse)', matches: (h) => ascii(h, 0, 'AFF10\r\n\x00') },
  { name: 'an Apple disk image (UDIF .dmg), which gptdoctor cannot read; convert it first (hdiutil convert -format UDTO, or dmg2img)', matches: (_h, t) => ascii(t, t.length - 512, 'koly') },
];

/** The format a file is in, when it is one gptdoctor knows but cannot read; undefined otherwise. */
export function unreadableFormat(head: Uint8Array, tail: Uint8Array): string | undefined {
  return SIGNATURES.find((s) => s.matches(head, tail))?.name;
}

/** True when one of the sectors that could be LBA 1 (at 512 or 4096 bytes) starts with "EFI PART". */
export function startsWithGptHeader(...candidates: Uint8Array[]): boolean {
  return candidates.some((sector) => ascii(sector, 0, 'EFI PART'));
}
