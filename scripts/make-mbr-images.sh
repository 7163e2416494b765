#!/usr/bin/env bash
# Builds gptdoctor's MBR-disk Windows fixtures (BIOS installs, for the MBR2GPT-readiness check) with
# independent tools, and records what those tools say about each in test/images/manifest.json.
# Standalone: it writes only the fixtures below (test/images/NAME.img.gz and their manifest
# entries) and leaves every other fixture alone. make-test-images.sh starts by removing all
# fixtures and the manifest, so run this script after it.
#
# Needs root (FUSE) and fdisk (sfdisk), gdisk (fixture-manifest.py runs sgdisk -p/-v), ntfs-3g
# (mkntfs, ntfs-3g), libwin-hivex-perl (hivexregedit), python3, gzip, and faketime (libfaketime):
# mkntfs seeds its volume serial and GUIDs from the clock and ntfs-3g stamps every file it writes,
# so both run under LD_PRELOAD=libfaketime with the clock frozen at 2019-04-17 18:40:00 UTC (the
# FILETIME of make-empty-hive.py): two runs give byte-identical images.
#
# Partition tables come only from sfdisk (label: dos, label-id 0x0D15C0DE, 512-byte sectors);
# NTFS volumes from mkntfs -s 512 -p START -H 255 -S 63 on a file of the partition's size, filled
# through an ntfs-3g mount and copied in at the partition's start. The BCD store is written by
# make-bcd-reg.py --mbr (device elements: the partition's byte offset, style 1 = MBR, the disk
# signature) and hivexregedit (make-test-hive.sh), and copied to \Boot\BCD by ntfs-3g. "System
# files" below means \bootmgr (8 KiB pattern) and \Boot\BCD; "Windows files" means
# \Windows\System32\config\SYSTEM (64 KiB pattern) and \Windows\System32\ntoskrnl.exe (4 KiB), as
# make-test-images.sh's windows_files writes them. Contents are patterned, not random: the
# fixtures are committed compressed.
#
# Fixtures (512-byte sectors):
#   windows-mbr             128 MiB. p1 2048+204800 (100 MiB) type 7 bootable, NTFS "System Reserved" with the system
#                           files; p2 206848+49152 (24 MiB) type 7, NTFS "Windows" with the Windows files; the rest
#                           (from LBA 256000) unallocated. BCD: signature 0x0D15C0DE, {bootmgr} on p1 (byte 1048576),
#                           the loader on p2 (byte 105906176). MBR2GPT-ready: the 100 MiB system partition becomes the ESP
#   windows-mbr-single      176 MiB. One partition p1 2048+327680 (160 MiB) type 7 bootable, NTFS "Windows" with the
#                           system and the Windows files; BCD {bootmgr} and loader both on p1. Ready: the new ESP is
#                           carved from the OS partition, which has over 100 MiB free
#   windows-mbr-blocked     64 MiB, four primaries: p1 2048+16384 (8 MiB) type 7 not bootable, NTFS "System Reserved"
#                           with the system files (BCD made with --no-default: {bootmgr} has no default object);
#                           p2 18432+32768 (16 MiB) type 7, NTFS "Windows" with the Windows files; p3 51200+8192 (4 MiB)
#                           type c, unformatted; p4 59392+71680 type 83 to the disk's last sector (131071), unformatted.
#                           Blocked: 4 primaries, no active partition, no room for the backup GPT, no default entry,
#                           type 0x83
#   windows-mbr-extended    64 MiB. p1 2048+16384 (8 MiB) type 7 bootable, NTFS "System Reserved" with the system
#                           files; p2 18432+81920 (40 MiB) type 5 extended holding one logical p5 20480+65536 (32 MiB,
#                           its EBR at 18432) type 7, NTFS "Windows" (mkntfs -p 20480, the absolute start) with the
#                           Windows files; BCD loader on byte 10485760 (p5). Blocked: extended/logical partitions
#   windows-mbr-bitlocker   windows-mbr with -FVE-FS- written at byte 3 of p2 (the BitLocker signature). Blocked
#   windows-mbr-bcd-stale   windows-mbr after sfdisk --disk-id 0x0BADF00D (as a cloning tool gives): the BCD still
#                           names 0x0D15C0DE
#   windows-mbr-bcd-missing windows-mbr with \Boot\BCD deleted from p1 through an ntfs-3g mount
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (FUSE mounts)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$root/test/images"
faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1) || true
[ -n "$faketime_lib" ] || { echo "needs libfaketime (apt-get install faketime) for reproducible NTFS volumes" >&2; exit 1; }
work=$(mktemp -d)
mounted= ntfs_pid=
cleanup() {
  if [ -n "$mounted" ]; then umount "$mounted" 2>/dev/null || true; fi
  if [ -n "$ntfs_pid" ]; then wait "$ntfs_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
MIB=1048576
SIGNATURE=0x0D15C0DE
mkdir -p "$out"

# frozen COMMAND...: run it with the clock stopped (libfaketime; the monotonic clock still runs,
# so timeouts inside FUSE and libntfs-3g behave)
frozen() { TZ=UTC LD_PRELOAD="$faketime_lib" FAKETIME='2019-04-17 18:40:00' FAKETIME_DONT_FAKE_MONOTONIC=1 "$@"; }

blank() { rm -f "$1"; truncate -s "$2" "$1"; }
# put FILE LBA IMAGE: copy a filesystem image into a partition, keeping holes sparse
put() { dd if="$1" of="$3" bs=512 seek="$2" conv=notrunc,sparse status=none; }
# reput FILE LBA IMAGE: the same over a partition that already holds a filesystem (its old bytes
# are punched out first, or they would show through put's skipped zero blocks)
reput() { fallocate --punch-hole --offset $(($2 * 512)) --length "$(stat -c %s "$1")" "$3"; put "$@"; }
# part IMAGE N start|size: partition N's field from sfdisk --json (logical partitions: absolute LBA)
part() {
  sfdisk --json "$1" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
print(next(p[sys.argv[2]] for p in t["partitions"] if p["node"] == t["device"] + sys.argv[1]))' "$2" "$3"
}
# pattern TEXT BYTES FILE: compressible stand-in content (yes ends by SIGPIPE, which pipefail would see)
pattern() { { yes "$1" || true; } | head -c "$2" > "$3"; }

# ntfs_mount FILE DIR / ntfs_umount: ntfs-3g kept in the foreground (no_detach) in the background
# of this shell, so that after umount the script can wait until it has written and closed the volume
ntfs_mount() {
  mkdir -p "$2"
  frozen ntfs-3g -o no_detach "$1" "$2" >/dev/null 2>&1 &
  ntfs_pid=$!; mounted=$2
  until mountpoint -q "$2"; do
    kill -0 "$ntfs_pid" 2>/dev/null || { echo "ntfs-3g failed to mount $1" >&2; exit 1; }
    sleep 0.1
  done
}
ntfs_umount() { umount "$mounted"; mounted=; wait "$ntfs_pid"; ntfs_pid=; }

# bcd_hive SYSTEM_LBA WINDOWS_LBA [--no-default]: the BCD store bcdboot writes on a BIOS disk, in
# $work/bcd.hive, naming this disk's signature and the partitions' byte offsets
bcd_hive() {
  python3 "$here/make-bcd-reg.py" "$work/bcd.reg" --mbr "$SIGNATURE" $(($1 * 512)) $(($2 * 512)) ${3:+"$3"}
  rm -f "$work/bcd.hive"; bash "$here/make-test-hive.sh" "$work/bcd.hive" BCD00000000 "$work/bcd.reg"
}
system_files() { # what bcdboot puts on the system partition of a BIOS disk: \bootmgr and \Boot\BCD
  mkdir -p "$1/Boot"
  pattern 'BOOTMGR stand-in' 8192 "$1/bootmgr"
  cp "$work/bcd.hive" "$1/Boot/BCD"
}
windows_files() { # what makes an NTFS volume the Windows partition: \Windows\System32
  mkdir -p "$1/Windows/System32/config" "$1/Users/Public"
  pattern 'regf hive stand-in' 65536 "$1/Windows/System32/config/SYSTEM"
  pattern 'MZ kernel stand-in' 4096 "$1/Windows/System32/ntoskrnl.exe"
}
system_and_windows_files() { system_files "$1"; windows_files "$1"; }
ntfs_into() { # ntfs_into IMAGE PARTNUM LABEL FILL: mkntfs, then FILL (a function) in an ntfs-3g mount of it
  local s n; s=$(part "$1" "$2" start); n=$(part "$1" "$2" size)
  blank "$work/part.ntfs" $((n * 512))
  frozen mkntfs -Q -F -q -s 512 -L "$3" -p "$s" -H 255 -S 63 "$work/part.ntfs" >/dev/null 2>&1
  ntfs_mount "$work/part.ntfs" "$work/mnt"; "$4" "$work/mnt"; ntfs_umount
  put "$work/part.ntfs" "$s" "$1"
}

built=0
finish() { # finish NAME "description": record in the manifest and compress
  local img="$work/$1.img"
  python3 "$here/fixture-manifest.py" "$out/manifest.json" "$1" "$img" 512 "$2" mbr,windows,mbr2gpt
  gzip -9nc "$img" > "$out/$1.img.gz"
  built=$((built + 1))
}
variant() { cp --sparse=always "$work/$1.img" "$work/$2.img"; }
table() { # table IMAGE SIZE_MIB LINES...: a blank disk with the dos table sfdisk writes from LINES
  blank "$1" $(($2 * MIB))
  { printf 'label: dos\nlabel-id: %s\nunit: sectors\nsector-size: 512\n' "$SIGNATURE"; printf '%s\n' "${@:3}"; } | sfdisk --quiet "$1"
}

# --- Ready for MBR2GPT ----------------------------------------------------------------------------
img="$work/windows-mbr.img"
table "$img" 128 'start=2048, size=100MiB, type=7, bootable' 'size=24MiB, type=7'
bcd_hive "$(part "$img" 1 start)" "$(part "$img" 2 start)"
ntfs_into "$img" 1 "System Reserved" system_files
ntfs_into "$img" 2 Windows windows_files
finish windows-mbr "BIOS Windows on an MBR disk (sfdisk, mkntfs, ntfs-3g): active 100 MiB System Reserved NTFS with \\bootmgr and \\Boot\\BCD, 24 MiB Windows NTFS; BCD names signature 0x0D15C0DE and both partitions' offsets"

img="$work/windows-mbr-single.img"
table "$img" 176 'start=2048, size=160MiB, type=7, bootable'
bcd_hive "$(part "$img" 1 start)" "$(part "$img" 1 start)"
ntfs_into "$img" 1 Windows system_and_windows_files
finish windows-mbr-single "BIOS Windows on one active 160 MiB NTFS partition holding \\bootmgr, \\Boot\\BCD and \\Windows (over 100 MiB free for a new ESP)"

# --- Blocked --------------------------------------------------------------------------------------
img="$work/windows-mbr-blocked.img"
table "$img" 64 'start=2048, size=8MiB, type=7' 'size=16MiB, type=7' 'size=4MiB, type=c' 'type=83'
bcd_hive "$(part "$img" 1 start)" "$(part "$img" 2 start)" --no-default
ntfs_into "$img" 1 "System Reserved" system_files
ntfs_into "$img" 2 Windows windows_files
finish windows-mbr-blocked "MBR disk with four primaries and none active: System Reserved NTFS (BCD without a default entry), Windows NTFS, unformatted type 0x0c, unformatted type 0x83 to the disk's last sector"

img="$work/windows-mbr-extended.img"
# sfdisk makes a line logical when it names partition 5 (unnamed, it would be primary 3)
table "$img" 64 'start=2048, size=8MiB, type=7, bootable' 'size=40MiB, type=5' "${img}5 : size=32MiB, type=7"
bcd_hive "$(part "$img" 1 start)" "$(part "$img" 5 start)"
ntfs_into "$img" 1 "System Reserved" system_files
ntfs_into "$img" 5 Windows windows_files
finish windows-mbr-extended "MBR disk whose Windows NTFS is logical partition 5 in an extended partition (type 5); active System Reserved NTFS with the BCD"

# --- Variants of windows-mbr ------------------------------------------------------------------------
variant windows-mbr windows-mbr-bitlocker
printf -- '-FVE-FS-' | dd of="$work/windows-mbr-bitlocker.img" bs=1 seek=$(( $(part "$work/windows-mbr-bitlocker.img" 2 start) * 512 + 3 )) conv=notrunc status=none
finish windows-mbr-bitlocker "windows-mbr with the BitLocker signature -FVE-FS- at byte 3 of the Windows partition"

variant windows-mbr windows-mbr-bcd-stale; sfdisk --quiet --disk-id "$work/windows-mbr-bcd-stale.img" 0x0BADF00D
finish windows-mbr-bcd-stale "windows-mbr after sfdisk --disk-id 0x0BADF00D (a new disk signature, as a cloning tool gives): the BCD names 0x0D15C0DE"

img="$work/windows-mbr-bcd-missing.img"
variant windows-mbr windows-mbr-bcd-missing
s=$(part "$img" 1 start); n=$(part "$img" 1 size)
rm -f "$work/part.ntfs"; dd if="$img" of="$work/part.ntfs" bs=512 skip="$s" count="$n" conv=sparse status=none
ntfs_mount "$work/part.ntfs" "$work/mnt"; rm "$work/mnt/Boot/BCD"; ntfs_umount
reput "$work/part.ntfs" "$s" "$img"
finish windows-mbr-bcd-missing "windows-mbr with \\Boot\\BCD deleted from the System Reserved partition (ntfs-3g)"

echo "built $built MBR fixtures into $out"
