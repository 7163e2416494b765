#!/usr/bin/env bash
# Builds an NTFS volume image for the NTFS reader's oracle tests (test/fs-ntfs.test.ts and
# test/fuzz-ntfs.test.ts): mkntfs makes the volume, and every file is written through an ntfs-3g
# FUSE mount, so the reader under test produced none of it. Needs root (FUSE), mkntfs, ntfs-3g
# openssl (reproducible pseudo-random contents: AES-CTR over zeros, a few ms per call) and python3
# (one setxattr call, for a DOS 8.3 alias).
#
# usage: scripts/make-ntfs-volume.sh IMAGE SIZE_MIB [mkntfs options, e.g. -s 4096 or -c 65536]
#
#   LABEL=text   volume label (default GPTDOCTOR)
#   MANY=n       files in \Many, long mixed-case names (default 300): several INDX blocks, sub-nodes
#   HOLES=n      small files in \Holes (default 1500, 0 skips) of HOLE_SIZE bytes (default 4096: a
#                cluster, or a few, and too big to stay resident). A filler then takes the rest of the
#                volume and every other small file is deleted, so \Frag\holes.bin lands in n/2 holes: its
#                runlist no longer fits one MFT record and ntfs-3g spreads $DATA over extension
#                records listed in an $ATTRIBUTE_LIST. The filler is deleted at the end.
#
# Contents:
#   \Windows\System32\config\{SYSTEM,SOFTWARE,SAM,DEFAULT}   pseudo-random, 8-300 KiB
#   \Recovery\WindowsRE\Winre.wim                             3 MiB pseudo-random (non-resident)
#   \tiny.txt                                                 a few bytes (resident)
#   \Program Files\app.exe                                    the directory gets the DOS alias PROGRA~1
#                                                             (ntfs-3g's system.ntfs_dos_name attribute)
#   \Unicode\Ünïcödé Ñame.txt, \Unicode\straße.txt            names $UpCase must fold
#   \Many\*                                                   MANY files
#   \Frag\backwards.bin                                       16 clusters written out of order: 16 runs
#   \Frag\holes.bin                                           see HOLES
#   \Links\target.bin + 14 hard links with long names         $FILE_NAMEs overflow the record
#   \sparse.bin                                               8 MiB sparse, 2 data islands
set -euo pipefail

img=${1:?usage: make-ntfs-volume.sh IMAGE SIZE_MIB [mkntfs options]}
size=${2:?usage: make-ntfs-volume.sh IMAGE SIZE_MIB [mkntfs options]}
shift 2
many=${MANY:-300}
holes=${HOLES:-1500}
hole_size=${HOLE_SIZE:-4096}

rm -f "$img"
truncate -s "${size}M" "$img"
mkntfs -Q -F -q -L "${LABEL:-GPTDOCTOR}" "$@" "$img" 2>/dev/null

mnt=$(mktemp -d)
cleanup() {
  # On an error exit the shell may still hold the file it was redirecting into: retry briefly.
  for _ in 1 2 3 4 5; do
    if ! mountpoint -q "$mnt" || umount "$mnt" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if mountpoint -q "$mnt"; then umount "$mnt"; fi
  rmdir "$mnt"
}
trap cleanup EXIT
ntfs-3g "$img" "$mnt"

# noise BYTES SEED: reproducible pseudo-random bytes on stdout (SEED up to 16 hex digits).
noise() {
  # Through a process substitution: openssl dies of SIGPIPE when head is done, which pipefail would see.
  head -c "$1" < <(openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$2")" -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null)
}

mkdir -p "$mnt/Windows/System32/config" "$mnt/Recovery/WindowsRE" "$mnt/Many" "$mnt/Frag" "$mnt/Links" "$mnt/Unicode"
noise 262144 1 >"$mnt/Windows/System32/config/SYSTEM"
noise 307200 2 >"$mnt/Windows/System32/config/SOFTWARE"
noise 8192 3 >"$mnt/Windows/System32/config/SAM"
noise 65537 4 >"$mnt/Windows/System32/config/DEFAULT"
noise $((3 * 1024 * 1024)) 5 >"$mnt/Recovery/WindowsRE/Winre.wim"
printf 'hello, NTFS\n' >"$mnt/tiny.txt"
mkdir "$mnt/Program Files"
printf 'app\n' >"$mnt/Program Files/app.exe"
# ntfs-3g keeps one POSIX name per file unless a DOS alias is set; Windows makes such pairs everywhere.
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "system.ntfs_dos_name", b"PROGRA~1")' "$mnt/Program Files"
printf 'umlauts\n' >"$mnt/Unicode/Ünïcödé Ñame.txt"
printf 'eszett\n' >"$mnt/Unicode/straße.txt"

for i in $(seq 1 "$many"); do
  printf 'file %d\n' "$i" >"$mnt/Many/Mixed Case File Number $i with a Rather Long Name To Fill INDX Blocks.TxT"
done

# Clusters written last-first, odd ones then even ones: 16 one-cluster runs whose LCN offsets
# alternate in sign (ntfs-3g allocates each where the previous write left off).
cluster=$(stat -f -c %S "$mnt")
for i in 15 13 11 9 7 5 3 1 0 2 4 6 8 10 12 14; do
  noise "$cluster" $((100 + i)) | dd of="$mnt/Frag/backwards.bin" bs="$cluster" seek="$i" conv=notrunc iflag=fullblock status=none
done

noise 5000 7 >"$mnt/Links/target.bin"
for i in $(seq 1 14); do
  ln "$mnt/Links/target.bin" "$mnt/Links/hard link number $i to the same file with a long name.bin"
done

truncate -s 8M "$mnt/sparse.bin"
noise 10000 8 | dd of="$mnt/sparse.bin" bs=4096 seek=100 conv=notrunc iflag=fullblock status=none
noise 4096 9 | dd of="$mnt/sparse.bin" bs=4096 seek=1500 conv=notrunc iflag=fullblock status=none

if [ "$holes" -gt 0 ]; then
  mkdir -p "$mnt/Holes"
  blank=$(printf "%${hole_size}s" '')
  for i in $(seq 1 "$holes"); do printf '%s' "$blank" >"$mnt/Holes/h$i"; done
  dd if=/dev/zero of="$mnt/filler" bs=64k status=none 2>/dev/null || true # until the volume is full
  (cd "$mnt/Holes" && seq -f 'h%g' 1 2 "$holes" | xargs rm) # one rm, not one per file
  sync
  read -r free_blocks block_size < <(stat -f -c '%f %S' "$mnt")
  # Leave some clusters for the non-resident attribute list and index growth.
  margin=$((holes >= 400 ? 16 + 65536 / block_size : 2))
  noise $(((free_blocks - margin) * block_size)) 10 >"$mnt/Frag/holes.bin"
  rm "$mnt/filler"
fi
sync
