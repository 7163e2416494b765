//! macOS: disks are /dev/diskN (buffered block device) and /dev/rdiskN (raw character device,
//! block-aligned I/O only, which the core's aligned transfers satisfy). Sizes come from the
//! DKIOC* ioctls of <sys/disk.h>; the kernel itself refuses (EBUSY) to open a disk for writing
//! while one of its volumes is mounted, so `diskutil unmountDisk` comes first.

use super::{DriveInfo, Opened, Reread};
use crate::partition_sync::Extent;
use crate::ioctl_numbers::bsd_ior;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::AsRawFd;

pub use crate::posix::{data_ranges, error_code, pread, pwrite};

const DKIOCGETBLOCKSIZE: u64 = bsd_ior(b'd', 24, 4);
const DKIOCGETBLOCKCOUNT: u64 = bsd_ior(b'd', 25, 8);
const DKIOCISWRITABLE: u64 = bsd_ior(b'd', 29, 4);
const DKIOCGETPHYSICALBLOCKSIZE: u64 = bsd_ior(b'd', 77, 4);

pub fn open(path: &str, write: bool) -> io::Result<Opened> {
    let meta = std::fs::metadata(path)?;
    let kind = meta.file_type();
    let is_block_device = kind.is_block_device() || kind.is_char_device();
    let file = OpenOptions::new().read(true).write(write).open(path)?;
    if write && is_block_device {
        crate::posix::lock(&file)?;
    }
    Ok(Opened {
        file,
        is_block_device,
        len: meta.len(),
        read_only_file: meta.permissions().readonly(),
    })
}

fn ioctl_u32(file: &File, request: u64) -> io::Result<u32> {
    let mut value: u32 = 0;
    // SAFETY: the descriptor is open for the life of `file`; the request writes one u32 into `value`.
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

fn ioctl_u64(file: &File, request: u64) -> io::Result<u64> {
    let mut value: u64 = 0;
    // SAFETY: the descriptor is open for the life of `file`; the request writes one u64 into `value`.
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// (size in bytes, logical sector size, physical sector size): block count × block size.
pub fn geometry(file: &File) -> io::Result<(u64, u32, u32)> {
    let logical = ioctl_u32(file, DKIOCGETBLOCKSIZE)?;
    let blocks = ioctl_u64(file, DKIOCGETBLOCKCOUNT)?;
    let physical = ioctl_u32(file, DKIOCGETPHYSICALBLOCKSIZE).unwrap_or(logical);
    Ok((blocks * logical as u64, logical, physical))
}

pub fn read_only(file: &File) -> io::Result<bool> {
    Ok(ioctl_u32(file, DKIOCISWRITABLE)? == 0)
}

/// macOS has no "re-read the partition map" call for a disk that stays attached: the system
/// re-probes it when it is attached again.
pub fn reread(_file: &File, _table: &[Extent]) -> io::Result<Reread> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "macOS reads a disk's partition map when the disk is attached: eject and re-attach it (or run `diskutil unmountDisk` and `diskutil mountDisk`)",
    ))
}

/// fsync on macOS leaves data in the drive's cache; F_FULLFSYNC asks the drive to write it out.
pub fn flush(file: &File) -> io::Result<()> {
    // SAFETY: F_FULLFSYNC takes no argument; the descriptor is open for the life of `file`.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_FULLFSYNC) } == 0 {
        return Ok(());
    }
    file.sync_all()
}

/// Nothing to prepare: the kernel refuses writers while a volume of the disk is mounted.
#[derive(Default)]
pub struct WriteGuard;

pub fn before_write(_file: &File, _guard: &mut WriteGuard, _start: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

/// Whole disks: /dev/diskN without an sN slice suffix, measured through /dev/rdiskN.
pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    let mut drives = Vec::new();
    let mut denied = None;
    for entry in std::fs::read_dir("/dev")? {
        let name = entry?.file_name().to_string_lossy().to_string();
        let Some(number) = name.strip_prefix("disk") else { continue };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let raw = format!("/dev/r{name}");
        let file = match File::open(&raw) {
            Ok(f) => f,
            Err(e) => {
                denied = Some(e);
                continue;
            }
        };
        let Ok((size, logical, physical)) = geometry(&file) else { continue };
        drives.push(DriveInfo {
            path: raw,
            model: String::new(),
            size,
            logical_sector_size: logical,
            physical_sector_size: physical,
            removable: false,
            read_only: read_only(&file).unwrap_or(false),
        });
    }
    if drives.is_empty() {
        if let Some(err) = denied {
            return Err(err); // every disk refused us: say why (usually EACCES without sudo)
        }
    }
    drives.sort_by_key(|d| d.path.trim_start_matches("/dev/rdisk").parse::<u32>().unwrap_or(u32::MAX));
    Ok(drives)
}
