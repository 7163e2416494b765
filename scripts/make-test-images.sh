#!/usr/bin/env bash
# Builds gptdoctor's test fixtures with independent tools, and records what those tools say
# about each in test/images/manifest.json. Needs root (loop devices for 4096-byte sectors) and
# gdisk fdisk parted dosfstools mtools ntfs-3g e2fsprogs python3.
#
# Healthy layouts come only from sgdisk, sfdisk and parted; filesystems from mkfs.fat + mtools,
# mkntfs, mkfs.ext4 and mkswap. scripts/gpt-bytes.py only damages them on purpose.
#
# The MBR-disk Windows fixtures (windows-mbr*, for the MBR2GPT-readiness check) are built by
# scripts/make-mbr-images.sh. This script starts by removing every fixture and the manifest: run that
# one after it.
#
# Fixtures (512-byte sectors unless said):
#   windows                 sgdisk: ESP 100 MiB FAT32 (\EFI\Microsoft\Boot\bootmgfw.efi, \EFI\Boot\bootx64.efi, and a BCD
#                           store made by make-bcd-reg.py + hivexregedit naming the ESP and Windows partitions),
#                           MSR 16 MiB (unformatted), basic data NTFS holding \Windows\System32 (written through an
#                           ntfs-3g mount), Recovery NTFS 8 MiB 0x8000000000000001 without WinRE
#   windows-esp-basic       windows, ESP retyped 0700 (sgdisk -t) — the 0x80070003-0x40008 case; also test/sample/
#   windows-msr-basic       windows, MSR retyped 0700
#   windows-esp-ntfs        windows, ESP formatted NTFS (mkntfs)
#   windows-esp-full        windows, ESP filled by mcopy to under 15 MiB free
#   windows-esp-noblockio   windows, sgdisk -A 1:set:1
#   windows-esp-small       windows layout with a 64 MiB ESP
#   windows-esp-attrs-zero  windows, sgdisk -A 1:clear:63
#   windows-recovery-no-required  windows, sgdisk -A 4:clear:0
#   windows-no-esp          windows with the ESP deleted (sgdisk -d 1)
#   windows-two-esps        windows plus a second FAT32 partition typed EF00
#   windows-no-msr          windows with the MSR deleted (sgdisk -d 2)
#   windows-msr-formatted   windows with the MSR formatted FAT (mkfs.fat)
#   windows-msr-attrs-zero  windows, sgdisk -A 2:clear:63
#   windows-winre           windows layout with a 300 MiB Recovery holding \Recovery\WindowsRE\Winre.wim (ntfs-3g)
#   windows-winre-low       windows layout with a 64 MiB Recovery holding Winre.wim: under 250 MiB free (KB5034441)
#   windows-recovery-first  ESP, MSR, Recovery, then the Windows partition (KB5028997's resize cannot work)
#   windows-recovery-blocks-growth  windows layout with 96 MiB unallocated after Recovery (C: cannot be extended)
#   windows-esp-fat32-few-clusters  windows with the ESP made by mkfs.fat -F 32 -s 8: FAT32 with 25,000 clusters (empty:
#                           mtools types it by cluster count too, and cannot write into it)
#   windows-esp-fat16       windows with the ESP made by mkfs.fat -F 16
#   windows-recovery-bitlocker  windows with the BitLocker signature -FVE-FS- written at byte 3 of Recovery
#   windows-bcd-stale       windows after sgdisk -G (new disk and partition GUIDs, as a cloning tool gives): the BCD names the old ones
#   windows-bcd-missing     windows with \EFI\Microsoft\Boot\BCD deleted (mdel)
#   windows-bcd-unreadable  windows with the BCD overwritten by 8 KiB that are no hive (mcopy)
#   header-unusual          linux; the primary header's reserved field (offset 20) set to 1 (CRC recomputed)
#   linux                   sfdisk: ESP FAT32 (\EFI\BOOT\BOOTX64.EFI, \EFI\debian\grubx64.efi), BIOS boot, swap, root ext4, home ext4 "ホーム"
#   data                    parted: one basic data NTFS partition over the disk
#   sector4k                sgdisk on a loop device with 4096-byte sectors: ESP FAT + Linux filesystem
#   entries256              sgdisk -S 256, a partition in slot 200
#   many-partitions         sgdisk: 100 partitions
#   damaged-primary-header  linux, one primary header byte flipped
#   damaged-primary-entries linux, one primary entry byte flipped
#   zeroed-backup           linux, last LBA zeroed
#   damaged-backup-entries  linux, one backup entry byte flipped
#   grown                   data-like disk (parted) made at 64 MiB, then truncate -s 96M
#   truncated               sfdisk disk of 64 MiB with a partition ending at 40 MiB, truncated to 48 MiB
#   hybrid-mbr              sgdisk -h 1:2
#   mbr-only                sfdisk label: dos, two partitions
#   zeros                   16 MiB of zeros
#   no-pmbr                 linux with LBA 0 zeroed
#   overlap                 sfdisk two partitions; entry 2 moved into entry 1 (CRCs recomputed)
#   guid-duplicate          sfdisk two partitions; entry 2 given entry 1's unique GUID (CRCs recomputed)
#   out-of-range            sfdisk; entry 1 starts at LBA 100, below first usable 2048 (CRCs recomputed)
#   in-table-area           sfdisk; entry 1 starts at LBA 10, inside the primary array (CRCs recomputed)
#   headers-disagree        linux; backup header's disk GUID changed (its CRC recomputed)
#   entry-size-256          sfdisk data disk rewritten with 256-byte entries (all CRCs recomputed)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (loop devices)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$root/test/images"
work=$(mktemp -d)
loops=()
mounted=
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null || true
  for l in "${loops[@]:-}"; do [ -n "$l" ] && losetup -d "$l" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export MTOOLS_SKIP_CHECK=1
bytes() { python3 "$here/gpt-bytes.py" "$@"; }
MIB=1048576
DISK_GUID=6A1F2B3C-4D5E-4F60-8172-93A4B5C6D7E8

mkdir -p "$out" "$root/test/sample"
rm -f "$out"/*.img.gz "$out/manifest.json"

blank() { rm -f "$1"; truncate -s "$2" "$1"; }
# put FILE LBA IMAGE: copy a filesystem image into a partition, keeping holes sparse
put() { dd if="$1" of="$3" bs=512 seek="$2" conv=notrunc,sparse status=none; }
# reput FILE LBA IMAGE: the same over a partition that already holds a filesystem. put skips the
# new one's zero blocks, so the old bytes are punched out first, or they would show through.
reput() { fallocate --punch-hole --offset $(($2 * 512)) --length "$(stat -c %s "$1")" "$3"; put "$@"; }
start_of() { sgdisk -i "$2" "$1" | awk '/First sector/ {print $3}'; }
size_of() { sgdisk -i "$2" "$1" | awk '/Partition size/ {print $3}'; }

# bcd_hive WINDOWS_SLOT: the BCD store bcdboot would write for the windows layouts, in $work/bcd.hive:
# {bootmgr} on partition 1 (the ESP), the Windows Boot Loader on the Windows partition, this disk.
bcd_hive() {
  python3 "$here/make-bcd-reg.py" "$work/bcd.reg" "$DISK_GUID" 11111111-0000-4000-8000-000000000001 "11111111-0000-4000-8000-00000000000$1"
  rm -f "$work/bcd.hive"; bash "$here/make-test-hive.sh" "$work/bcd.hive" BCD00000000 "$work/bcd.reg"
}
esp_fat() { # esp_fat FILE SIZE_KIB HIDDEN_SECTORS layout(windows|linux); windows uses $work/bcd.hive
  rm -f "$1"; mkfs.fat -F 32 -s 1 -n SYSTEM -i 1234ABCD -h "$3" -C "$1" "$2" >/dev/null
  head -c 8192 /dev/zero | tr '\0' 'M' > "$work/loader.efi"
  if [ "$4" = windows ]; then
    mmd -i "$1" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Boot
    mcopy -i "$1" "$work/loader.efi" ::/EFI/Microsoft/Boot/bootmgfw.efi
    mcopy -i "$1" "$work/bcd.hive" ::/EFI/Microsoft/Boot/BCD
    mcopy -i "$1" "$work/loader.efi" ::/EFI/Boot/bootx64.efi
  else
    mmd -i "$1" ::/EFI ::/EFI/BOOT ::/EFI/debian
    mcopy -i "$1" "$work/loader.efi" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$1" "$work/loader.efi" ::/EFI/debian/grubx64.efi
  fi
}
ntfs_into() { # ntfs_into IMAGE PARTNUM LABEL [FILL]: mkntfs, then FILL (a function) in an ntfs-3g mount of it
  local s n; s=$(start_of "$1" "$2"); n=$(size_of "$1" "$2")
  blank "$work/part.ntfs" $((n * 512))
  mkntfs -Q -F -q -s 512 -L "$3" -p "$s" -H 255 -S 63 "$work/part.ntfs" >/dev/null 2>&1
  if [ -n "${4:-}" ]; then
    mkdir -p "$work/mnt"; ntfs-3g "$work/part.ntfs" "$work/mnt"; mounted="$work/mnt"
    "$4" "$work/mnt"; umount "$work/mnt"; mounted=
  fi
  put "$work/part.ntfs" "$s" "$1"
}
# pattern TEXT BYTES FILE: compressible stand-in content (yes ends by SIGPIPE, which pipefail would see)
pattern() { { yes "$1" || true; } | head -c "$2" > "$3"; }
windows_files() { # what makes an NTFS volume the Windows partition: \Windows\System32
  mkdir -p "$1/Windows/System32/config" "$1/Users/Public"
  # Patterned, not random, content: the fixtures are committed compressed.
  pattern 'regf hive stand-in' 65536 "$1/Windows/System32/config/SYSTEM"
  pattern 'MZ kernel stand-in' 4096 "$1/Windows/System32/ntoskrnl.exe"
}
winre_files() { # WinRE as reagentc places it on the Recovery partition
  mkdir -p "$1/Recovery/WindowsRE"
  pattern 'MSWIM WinRE stand-in' $((4 * MIB)) "$1/Recovery/WindowsRE/Winre.wim"
  printf '<?xml version="1.0"?><WindowsRE version="2.0"/>' > "$1/Recovery/WindowsRE/ReAgent.xml"
}

windows_layout() { # windows_layout IMAGE ESP_MIB [RECOVERY_MIB [RECOVERY_FILL [FREE_MIB_AT_END [ORDER]]]]
  # ORDER "recovery-first" puts Recovery before the Windows partition (slot 3 Recovery, slot 4 Windows).
  local rec=${3:-8} fill=${4:-} free=${5:-0} order=${6:-}
  blank "$1" $(( ($2 + 16 + 24 + rec + 2 + free) * MIB ))
  local win=3 re=4 first=(-n 3:0:+24M) second=(-n 4:0:+"$rec"M)
  if [ "$order" = recovery-first ]; then win=4; re=3; first=(-n 3:0:+"$rec"M); second=(-n 4:0:+24M); fi
  sgdisk -o -U "$DISK_GUID" \
    -n 1:2048:+"$2"M -t 1:EF00 -c 1:"EFI system partition" -u 1:11111111-0000-4000-8000-000000000001 -A 1:set:63 \
    -n 2:0:+16M -t 2:0C01 -c 2:"Microsoft reserved partition" -u 2:11111111-0000-4000-8000-000000000002 -A 2:set:63 \
    "${first[@]}" "${second[@]}" \
    -t $win:0700 -c $win:"Basic data partition" -u $win:11111111-0000-4000-8000-00000000000$win \
    -t $re:2700 -c $re:"Recovery" -u $re:11111111-0000-4000-8000-00000000000$re -A $re:set:0 -A $re:set:63 \
    "$1" >/dev/null
  bcd_hive $win
  esp_fat "$work/esp.fat" $(($2 * 1024)) 2048 windows
  put "$work/esp.fat" 2048 "$1"
  ntfs_into "$1" $win Windows windows_files
  ntfs_into "$1" $re Recovery "$fill"
}

names=()
finish() { # finish NAME SECTOR_SIZE "description" tags — compress and record
  local img="$work/$1.img"
  python3 "$here/fixture-manifest.py" "$out/manifest.json" "$1" "$img" "$2" "$3" "$4"
  gzip -9nc "$img" > "$out/$1.img.gz"
  names+=("$1")
}
variant() { cp --sparse=always "$work/$1.img" "$work/$2.img"; }

# --- Windows ---------------------------------------------------------------------------------
windows_layout "$work/windows.img" 100
finish windows 512 "Windows UEFI layout made by sgdisk/mkfs.fat/mkntfs: ESP 100 MiB FAT32, MSR 16 MiB, basic data NTFS, Recovery NTFS" gpt,windows,esp-fat32

variant windows windows-esp-basic; sgdisk -t 1:0700 "$work/windows-esp-basic.img" >/dev/null
finish windows-esp-basic 512 "windows with the ESP retyped Basic data (0700), as cloning tools leave it" gpt,windows,flagship
cp "$out/windows-esp-basic.img.gz" "$root/test/sample/windows-esp-typed-basic.img.gz"

variant windows windows-msr-basic; sgdisk -t 2:0700 "$work/windows-msr-basic.img" >/dev/null
finish windows-msr-basic 512 "windows with the MSR retyped Basic data (0700)" gpt,windows

variant windows windows-esp-ntfs
s=$(start_of "$work/windows-esp-ntfs.img" 1); n=$(size_of "$work/windows-esp-ntfs.img" 1)
blank "$work/part.ntfs" $((n * 512)); mkntfs -Q -F -q -p "$s" "$work/part.ntfs" >/dev/null; reput "$work/part.ntfs" "$s" "$work/windows-esp-ntfs.img"
finish windows-esp-ntfs 512 "windows with the ESP (type EF00) formatted NTFS" gpt,windows

variant windows windows-esp-full
esp_fat "$work/esp.fat" $((100 * 1024)) 2048 windows
head -c $((88 * MIB)) /dev/zero > "$work/fill.bin"; mcopy -i "$work/esp.fat" "$work/fill.bin" ::/EFI/fonts.bin
reput "$work/esp.fat" 2048 "$work/windows-esp-full.img"
finish windows-esp-full 512 "windows with an ESP under 15 MiB free (an 88 MiB file copied in by mcopy)" gpt,windows

variant windows windows-esp-noblockio; sgdisk -A 1:set:1 "$work/windows-esp-noblockio.img" >/dev/null
finish windows-esp-noblockio 512 "windows with ESP attribute bit 1 (no block IO) set" gpt,windows

windows_layout "$work/windows-esp-small.img" 64
finish windows-esp-small 512 "windows layout with a 64 MiB ESP" gpt,windows

variant windows windows-esp-attrs-zero; sgdisk -A 1:clear:63 "$work/windows-esp-attrs-zero.img" >/dev/null
finish windows-esp-attrs-zero 512 "windows with ESP attributes 0 (OEM style)" gpt,windows

variant windows windows-recovery-no-required; sgdisk -A 4:clear:0 "$work/windows-recovery-no-required.img" >/dev/null
finish windows-recovery-no-required 512 "windows with the Recovery partition's bit 0 (required) cleared" gpt,windows

variant windows windows-no-esp; sgdisk -d 1 "$work/windows-no-esp.img" >/dev/null
finish windows-no-esp 512 "windows with the ESP entry deleted" gpt,windows

windows_layout "$work/windows-two-esps.img" 100
truncate -s $((200 * MIB)) "$work/windows-two-esps.img"; sgdisk -e -n 5:0:+40M -t 5:EF00 -c 5:"second ESP" -u 5:11111111-0000-4000-8000-000000000005 "$work/windows-two-esps.img" >/dev/null
rm -f "$work/esp2.fat"; mkfs.fat -F 32 -s 1 -C "$work/esp2.fat" $((40 * 1024)) >/dev/null; put "$work/esp2.fat" "$(start_of "$work/windows-two-esps.img" 5)" "$work/windows-two-esps.img"
finish windows-two-esps 512 "windows plus a second FAT32 partition typed EF00" gpt,windows

variant windows windows-no-msr; sgdisk -d 2 "$work/windows-no-msr.img" >/dev/null
finish windows-no-msr 512 "windows with the MSR entry deleted" gpt,windows

variant windows windows-msr-formatted
rm -f "$work/msr.fat"; mkfs.fat -F 16 -C "$work/msr.fat" $((16 * 1024)) >/dev/null; put "$work/msr.fat" "$(start_of "$work/windows-msr-formatted.img" 2)" "$work/windows-msr-formatted.img"
finish windows-msr-formatted 512 "windows with the MSR formatted FAT16" gpt,windows

variant windows windows-msr-attrs-zero; sgdisk -A 2:clear:63 "$work/windows-msr-attrs-zero.img" >/dev/null
finish windows-msr-attrs-zero 512 "windows with MSR attributes 0" gpt,windows

# --- Windows servicing: WinRE space and Recovery placement (KB5034441, KB5028997) ---------------
windows_layout "$work/windows-winre.img" 100 300 winre_files
finish windows-winre 512 "windows layout with a 300 MiB Recovery holding \\Recovery\\WindowsRE\\Winre.wim (written through ntfs-3g)" gpt,windows,winre

windows_layout "$work/windows-winre-low.img" 100 64 winre_files
finish windows-winre-low 512 "windows layout with a 64 MiB Recovery holding Winre.wim: under 250 MiB free, as KB5034441 fails" gpt,windows,winre

windows_layout "$work/windows-recovery-first.img" 100 8 "" 0 recovery-first
finish windows-recovery-first 512 "ESP, MSR, Recovery, then the Windows partition: KB5028997's resize of the Recovery partition cannot work" gpt,windows,winre

windows_layout "$work/windows-recovery-blocks-growth.img" 100 8 "" 96
finish windows-recovery-blocks-growth 512 "windows layout with 96 MiB unallocated after the Recovery partition: C: cannot be extended into it" gpt,windows,winre

variant windows windows-esp-fat32-few-clusters
# mtools, like EDK2, types the volume by cluster count and cannot write into it: it stays empty.
rm -f "$work/esp.fat"; mkfs.fat -F 32 -s 8 -n SYSTEM -i 1234ABCD -h 2048 -C "$work/esp.fat" $((100 * 1024)) >/dev/null 2>&1
reput "$work/esp.fat" 2048 "$work/windows-esp-fat32-few-clusters.img"
finish windows-esp-fat32-few-clusters 512 "windows with an empty ESP that mkfs.fat -F 32 -s 8 made with 25,000 clusters: FAT32 by its boot sector, FAT16 by the FAT specification" gpt,windows

variant windows windows-esp-fat16
rm -f "$work/esp.fat"; mkfs.fat -F 16 -n SYSTEM -i 1234ABCD -h 2048 -C "$work/esp.fat" $((100 * 1024)) >/dev/null
mmd -i "$work/esp.fat" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot; mcopy -i "$work/esp.fat" "$work/loader.efi" ::/EFI/Microsoft/Boot/bootmgfw.efi
bcd_hive 3; mcopy -i "$work/esp.fat" "$work/bcd.hive" ::/EFI/Microsoft/Boot/BCD
reput "$work/esp.fat" 2048 "$work/windows-esp-fat16.img"
finish windows-esp-fat16 512 "windows with the ESP formatted FAT16 by mkfs.fat -F 16" gpt,windows

variant windows windows-recovery-bitlocker
printf -- '-FVE-FS-' | dd of="$work/windows-recovery-bitlocker.img" bs=1 seek=$(( $(start_of "$work/windows-recovery-bitlocker.img" 4) * 512 + 3 )) conv=notrunc status=none
finish windows-recovery-bitlocker 512 "windows with the BitLocker signature -FVE-FS- at byte 3 of the Recovery partition" gpt,windows

# --- Boot configuration: the BCD store on the ESP -----------------------------------------------
variant windows windows-bcd-stale; sgdisk -G "$work/windows-bcd-stale.img" >/dev/null
finish windows-bcd-stale 512 "windows after sgdisk -G (new disk and partition GUIDs): the BCD on the ESP names the old ones" gpt,windows,bcd

variant windows windows-bcd-missing
dd if="$work/windows-bcd-missing.img" of="$work/esp.fat" bs=512 skip=2048 count=$((100 * 2048)) status=none
mdel -i "$work/esp.fat" ::/EFI/Microsoft/Boot/BCD; reput "$work/esp.fat" 2048 "$work/windows-bcd-missing.img"
finish windows-bcd-missing 512 "windows with \\EFI\\Microsoft\\Boot\\BCD deleted by mdel" gpt,windows,bcd

variant windows windows-bcd-unreadable
dd if="$work/windows-bcd-unreadable.img" of="$work/esp.fat" bs=512 skip=2048 count=$((100 * 2048)) status=none
mcopy -o -i "$work/esp.fat" "$work/loader.efi" ::/EFI/Microsoft/Boot/BCD; reput "$work/esp.fat" 2048 "$work/windows-bcd-unreadable.img"
finish windows-bcd-unreadable 512 "windows with the BCD overwritten by 8 KiB that are not a registry hive (mcopy)" gpt,windows,bcd

# --- Linux -----------------------------------------------------------------------------------
linux_layout() {
  blank "$1" $((128 * MIB))
  sfdisk --quiet "$1" <<SFDISK
label: gpt
label-id: 7B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0
start=2048, size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=22222222-0000-4000-8000-000000000001, name="EFI System"
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, uuid=22222222-0000-4000-8000-000000000002, name="BIOS boot"
size=8MiB, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=22222222-0000-4000-8000-000000000003, name="swap"
size=24MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=22222222-0000-4000-8000-000000000004, name="root"
type=933AC7E1-2EB4-4F13-B844-0E14E2AEF915, uuid=22222222-0000-4000-8000-000000000005, name="ホーム données"
SFDISK
  esp_fat "$work/esp.fat" $((64 * 1024)) 2048 linux; put "$work/esp.fat" 2048 "$1"
  local p
  blank "$work/swap" $((8 * MIB)); mkswap -q "$work/swap" >/dev/null; put "$work/swap" "$(start_of "$1" 3)" "$1"
  for p in 4 5; do
    blank "$work/ext4" $(( $(size_of "$1" $p) * 512 )); mkfs.ext4 -q -F -U "22222222-0000-4000-8000-00000000000$p" "$work/ext4"
    put "$work/ext4" "$(start_of "$1" $p)" "$1"
  done
}
linux_layout "$work/linux.img"
finish linux 512 "Linux layout made by sfdisk: ESP FAT32, BIOS boot, swap, x86-64 root ext4, /home ext4 with a non-ASCII name" gpt,linux

# --- Data disks (parted) -----------------------------------------------------------------------
data_layout() { # data_layout IMAGE MIB
  blank "$1" $(($2 * MIB))
  parted -s "$1" mklabel gpt mkpart data ntfs 1MiB 100%
  sgdisk -U "$DISK_GUID" -u 1:33333333-0000-4000-8000-000000000001 "$1" >/dev/null
  ntfs_into "$1" 1 Data
}
data_layout "$work/data.img" 64
finish data 512 "one basic data NTFS partition over the disk, made by parted and mkntfs" gpt,data

data_layout "$work/grown.img" 64; truncate -s $((96 * MIB)) "$work/grown.img"
finish grown 512 "data disk made at 64 MiB and grown to 96 MiB: the backup GPT sits at the old end" gpt,grown

# --- 4096-byte sectors ------------------------------------------------------------------------
blank "$work/sector4k.img" $((128 * MIB))
loop=$(losetup --sector-size 4096 --find --show "$work/sector4k.img"); loops+=("$loop")
sgdisk -o -U "$DISK_GUID" -n 1:256:+40M -t 1:EF00 -c 1:"EFI system partition" -n 2:0:0 -t 2:8300 -c 2:"Linux filesystem" "$loop" >/dev/null
s1=$(sgdisk -i 1 "$loop" | awk '/First sector/ {print $3}'); s2=$(sgdisk -i 2 "$loop" | awk '/First sector/ {print $3}')
n2=$(sgdisk -i 2 "$loop" | awk '/Partition size/ {print $3}')
losetup -d "$loop"; loops=()
rm -f "$work/esp4k.fat"; mkfs.fat -S 4096 -n SYSTEM -C "$work/esp4k.fat" $((40 * 1024)) >/dev/null
mmd -i "$work/esp4k.fat" ::/EFI ::/EFI/BOOT; mcopy -i "$work/esp4k.fat" "$work/loader.efi" ::/EFI/BOOT/BOOTX64.EFI
dd if="$work/esp4k.fat" of="$work/sector4k.img" bs=4096 seek="$s1" conv=notrunc,sparse status=none
blank "$work/ext4" $((n2 * 4096)); mkfs.ext4 -q -F -b 4096 "$work/ext4"
dd if="$work/ext4" of="$work/sector4k.img" bs=4096 seek="$s2" conv=notrunc,sparse status=none
finish sector4k 4096 "4096-byte logical sectors (sgdisk on a loop device with --sector-size 4096): ESP FAT + Linux ext4" gpt,4kn

# --- Table shapes -----------------------------------------------------------------------------
blank "$work/entries256.img" $((64 * MIB))
sgdisk -o -S 256 -U "$DISK_GUID" -n 1:2048:+8M -t 1:8300 -n 2:0:+8M -t 2:0700 -n 200:0:+8M -t 200:8200 -c 200:"slot two hundred" "$work/entries256.img" >/dev/null
finish entries256 512 "256-entry table (sgdisk -S 256) with a partition in slot 200" gpt,entries256

blank "$work/many-partitions.img" $((64 * MIB))
args=(); for i in $(seq 1 100); do args+=(-n "$i:0:+256K"); done
sgdisk -o -U "$DISK_GUID" "${args[@]}" "$work/many-partitions.img" >/dev/null
finish many-partitions 512 "100 partitions made by one sgdisk call" gpt,many

blank "$work/hybrid-mbr.img" $((64 * MIB))
sgdisk -o -U "$DISK_GUID" -n 1:2048:+16M -t 1:EF00 -n 2:0:+16M -t 2:0700 -n 3:0:0 -t 3:8300 -h 1:2 "$work/hybrid-mbr.img" >/dev/null
finish hybrid-mbr 512 "hybrid MBR made by sgdisk -h 1:2" gpt,hybrid

blank "$work/mbr-only.img" $((32 * MIB))
printf 'label: dos\nlabel-id: 0x12345678\nstart=2048, size=16MiB, type=83\ntype=7\n' | sfdisk --quiet "$work/mbr-only.img"
finish mbr-only 512 "MBR (dos) partition table made by sfdisk, no GPT" mbr

blank "$work/zeros.img" $((16 * MIB))
finish zeros 512 "16 MiB of zeros" empty

# --- Damage to a healthy copy -------------------------------------------------------------------
last_lba() { echo $(( $(stat -c %s "$1") / 512 - 1 )); }
variant linux damaged-primary-header; bytes flip "$work/damaged-primary-header.img" $((512 + 0x20))
finish damaged-primary-header 512 "linux with one byte of the primary header (alternate LBA) flipped" gpt,damaged

variant linux damaged-primary-entries; bytes flip "$work/damaged-primary-entries.img" $((1024 + 0x40))
finish damaged-primary-entries 512 "linux with one byte of the primary entry array flipped" gpt,damaged

variant linux zeroed-backup; bytes zero "$work/zeroed-backup.img" $(( $(last_lba "$work/zeroed-backup.img") * 512 )) 512
finish zeroed-backup 512 "linux with the backup header (last LBA) zeroed" gpt,damaged

variant linux damaged-backup-entries; bytes flip "$work/damaged-backup-entries.img" $(( ($(last_lba "$work/damaged-backup-entries.img") - 32) * 512 + 0x40 ))
finish damaged-backup-entries 512 "linux with one byte of the backup entry array flipped" gpt,damaged

variant linux no-pmbr; bytes zero "$work/no-pmbr.img" 0 512
finish no-pmbr 512 "linux with LBA 0 (the protective MBR) zeroed" gpt,damaged

variant linux headers-disagree; bytes header "$work/headers-disagree.img" backup disk_guid 0BADC0DE-0000-4000-8000-000000000000
finish headers-disagree 512 "linux whose backup header has another disk GUID (CRC recomputed)" gpt,damaged

blank "$work/truncated.img" $((64 * MIB))
printf 'label: gpt\nlabel-id: %s\nstart=2048, size=38MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=44444444-0000-4000-8000-000000000001\n' "$DISK_GUID" | sfdisk --quiet "$work/truncated.img"
truncate -s $((48 * MIB)) "$work/truncated.img"
finish truncated 512 "64 MiB GPT image cut to 48 MiB: the backup is gone, the partition (ends at 40 MiB) is intact" gpt,damaged

variant linux header-unusual; bytes header "$work/header-unusual.img" primary reserved 1
finish header-unusual 512 "linux whose primary header has a non-zero reserved field (CRC recomputed)" gpt,damaged

two_parts() { # two_parts IMAGE
  blank "$1" $((32 * MIB))
  printf 'label: gpt\nlabel-id: %s\nstart=2048, size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=55555555-0000-4000-8000-000000000001, name="one"\nsize=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=55555555-0000-4000-8000-000000000002, name="two"\n' "$DISK_GUID" | sfdisk --quiet "$1"
}
two_parts "$work/overlap.img"; bytes entry "$work/overlap.img" 2 first_lba 10000
finish overlap 512 "two partitions; entry 2 starts inside entry 1 (CRCs recomputed)" gpt,invalid

two_parts "$work/guid-duplicate.img"; bytes entry "$work/guid-duplicate.img" 2 guid 55555555-0000-4000-8000-000000000001
finish guid-duplicate 512 "two partitions sharing one unique GUID (CRCs recomputed)" gpt,invalid

two_parts "$work/out-of-range.img"; bytes entry "$work/out-of-range.img" 1 first_lba 100
finish out-of-range 512 "entry 1 starts at LBA 100, below the first usable LBA 2048 (CRCs recomputed)" gpt,invalid

two_parts "$work/in-table-area.img"; bytes entry "$work/in-table-area.img" 1 first_lba 10
finish in-table-area 512 "entry 1 starts at LBA 10, inside the primary entry array (CRCs recomputed)" gpt,invalid

two_parts "$work/entry-size-256.img"; bytes entry-size-256 "$work/entry-size-256.img"
finish entry-size-256 512 "two partitions in 128 entries of 256 bytes (rewritten from an sfdisk table, CRCs recomputed)" gpt,entry-size

echo "built ${#names[@]} fixtures into $out ($(du -sh "$out" | cut -f1))"
