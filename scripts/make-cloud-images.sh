#!/usr/bin/env bash
# Builds the fixtures of the cloud import rules (check --target azure|aws) with independent tools,
# and records what sfdisk and sgdisk say of each in test/images/manifest.json, as
# scripts/make-test-images.sh does for the others (whose fixtures this leaves alone). Needs root
# (an ntfs-3g mount) and gdisk fdisk dosfstools mtools ntfs-3g e2fsprogs cryptsetup-bin
# libwin-hivex-perl python3.
#
# Fixtures (512-byte sectors):
#   dual-boot    sgdisk: ESP 100 MiB FAT32 holding Windows Boot Manager (\EFI\Microsoft\Boot\bootmgfw.efi
#                and a BCD naming the ESP and the Windows partition) and Debian's GRUB (\EFI\debian\grubx64.efi),
#                MSR 16 MiB, Windows NTFS with \Windows\System32 (through ntfs-3g), Linux x86-64 root ext4:
#                the dual-boot layout VM Import/Export refuses
#   linux-luks   sfdisk: ESP 64 MiB FAT32 (\EFI\BOOT\BOOTX64.EFI, \EFI\debian\grubx64.efi), Linux x86-64 root
#                holding a LUKS2 volume (cryptsetup luksFormat, a 32-byte key file, PBKDF2 at 1000
#                iterations, a 256-bit key and a 128 KiB keyslots area, so its key material stays small)
#
# The container variants the rules judge (fixed, dynamic and CHS-sized VHDs, VHDX, VHDs with bytes
# added or cut) are made at test time by qemu-img from committed fixtures (test/cloud-rules.test.ts).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (ntfs-3g mount)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$root/test/images"
work=$(mktemp -d)
mounted=
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export MTOOLS_SKIP_CHECK=1
MIB=1048576
DISK_GUID=5C1D0A7E-2B3C-4D5E-8F60-718293A4B5C6

blank() { rm -f "$1"; truncate -s "$2" "$1"; }
put() { dd if="$1" of="$3" bs=512 seek="$2" conv=notrunc,sparse status=none; }
start_of() { sgdisk -i "$2" "$1" | awk '/First sector/ {print $3}'; }
size_of() { sgdisk -i "$2" "$1" | awk '/Partition size/ {print $3}'; }
pattern() { { yes "$1" || true; } | head -c "$2" > "$3"; }
finish() { # finish NAME "description" tags: record, then compress
  python3 "$here/fixture-manifest.py" "$out/manifest.json" "$1" "$work/$1.img" 512 "$2" "$3"
  gzip -9nc "$work/$1.img" > "$out/$1.img.gz"
}
# esp IMAGE LBA SIZE_MIB DIR:FILE…: a FAT32 ESP holding loader stand-ins at \EFI\DIR\FILE
esp() {
  local image=$1 lba=$2 mib=$3; shift 3
  rm -f "$work/esp.fat"; mkfs.fat -F 32 -s 1 -n SYSTEM -i 5C1D0A7E -h "$lba" -C "$work/esp.fat" $((mib * 1024)) >/dev/null
  pattern 'EFI loader stand-in' 8192 "$work/loader.efi"
  mmd -i "$work/esp.fat" ::/EFI
  local item dir path part
  for item in "$@"; do
    dir=${item%%:*} path=
    for part in ${dir//\// }; do # each directory of DIR, parents first (mmd makes one level)
      path="$path/$part"; mdir -i "$work/esp.fat" "::/EFI$path" >/dev/null 2>&1 || mmd -i "$work/esp.fat" "::/EFI$path"
    done
    case ${item#*:} in BCD) mcopy -i "$work/esp.fat" "$work/bcd.hive" "::/EFI/$dir/BCD" ;; *) mcopy -i "$work/esp.fat" "$work/loader.efi" "::/EFI/$dir/${item#*:}" ;; esac
  done
  put "$work/esp.fat" "$lba" "$image"
}
ext4_into() { # ext4_into IMAGE PARTNUM UUID
  blank "$work/part.ext4" $(( $(size_of "$1" "$2") * 512 ))
  mkfs.ext4 -q -F -U "$3" "$work/part.ext4"
  put "$work/part.ext4" "$(start_of "$1" "$2")" "$1"
}

# --- dual-boot: Windows and Linux on one GPT disk ----------------------------------------------
img="$work/dual-boot.img"
blank "$img" $(( (100 + 16 + 24 + 16 + 2) * MIB ))
sgdisk -o -U "$DISK_GUID" \
  -n 1:2048:+100M -t 1:EF00 -c 1:"EFI system partition" -u 1:44444444-0000-4000-8000-000000000001 -A 1:set:63 \
  -n 2:0:+16M -t 2:0C01 -c 2:"Microsoft reserved partition" -u 2:44444444-0000-4000-8000-000000000002 -A 2:set:63 \
  -n 3:0:+24M -t 3:0700 -c 3:"Basic data partition" -u 3:44444444-0000-4000-8000-000000000003 \
  -n 4:0:0 -t 4:8304 -c 4:"Linux root" -u 4:44444444-0000-4000-8000-000000000004 \
  "$img" >/dev/null
python3 "$here/make-bcd-reg.py" "$work/bcd.reg" "$DISK_GUID" 44444444-0000-4000-8000-000000000001 44444444-0000-4000-8000-000000000003
bash "$here/make-test-hive.sh" "$work/bcd.hive" BCD00000000 "$work/bcd.reg"
esp "$img" 2048 100 Microsoft/Boot:bootmgfw.efi Microsoft/Boot:BCD Boot:bootx64.efi debian:shimx64.efi debian:grubx64.efi
s=$(start_of "$img" 3); n=$(size_of "$img" 3)
blank "$work/part.ntfs" $((n * 512))
mkntfs -Q -F -q -s 512 -L Windows -p "$s" -H 255 -S 63 "$work/part.ntfs" >/dev/null 2>&1
mkdir -p "$work/mnt"; ntfs-3g "$work/part.ntfs" "$work/mnt"; mounted="$work/mnt"
mkdir -p "$work/mnt/Windows/System32/config"
pattern 'regf hive stand-in' 65536 "$work/mnt/Windows/System32/config/SYSTEM"
umount "$work/mnt"; mounted=
put "$work/part.ntfs" "$s" "$img"
ext4_into "$img" 4 44444444-0000-4000-8000-000000000004
finish dual-boot "Windows and Linux on one GPT disk (sgdisk): an ESP with Windows Boot Manager and Debian's GRUB, MSR, Windows NTFS holding \\Windows\\System32, Linux x86-64 root ext4" gpt,windows,linux,cloud

# --- linux-luks: a Linux root inside LUKS ------------------------------------------------------
img="$work/linux-luks.img"
blank "$img" $((100 * MIB))
sfdisk --quiet "$img" <<SFDISK
label: gpt
label-id: 5C1D0A7E-2B3C-4D5E-8F60-718293A4B5C7
start=2048, size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=55555555-0000-4000-8000-000000000001, name="EFI System"
type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=55555555-0000-4000-8000-000000000002, name="root (LUKS)"
SFDISK
esp "$img" 2048 64 BOOT:BOOTX64.EFI debian:grubx64.efi
pattern 'gptdoctor test key' 32 "$work/key"
blank "$work/part.luks" $(( $(size_of "$img" 2) * 512 ))
# cryptsetup fills the keyslots area with random bytes: the smallest one that holds a 256-bit key's
# 4,000 anti-forensic stripes keeps the fixture small (it warns that the area is small).
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-size 256 \
  --luks2-metadata-size 16k --luks2-keyslots-size 128k --key-file "$work/key" \
  --uuid 55555555-0000-4000-8000-0000000000aa "$work/part.luks" >/dev/null 2>&1
put "$work/part.luks" "$(start_of "$img" 2)" "$img"
finish linux-luks "Linux layout (sfdisk) whose x86-64 root partition holds a LUKS2 volume (cryptsetup luksFormat); the ESP holds \\EFI\\BOOT\\BOOTX64.EFI and \\EFI\\debian\\grubx64.efi" gpt,linux,luks,cloud
