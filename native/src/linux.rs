//! Linux: block-device ioctls (linux/fs.h), O_EXCL + flock for writers, /sys/block for listing.

use super::{DriveInfo, Opened};
use crate::ioctl_numbers::{linux_io, linux_ior};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;

pub use crate::posix::{data_ranges, error_code, pread, pwrite};

const BLKROGET: u64 = linux_io(0x12, 94);
const BLKRRPART: u64 = linux_io(0x12, 95);
const BLKSSZGET: u64 = linux_io(0x12, 104);
const BLKGETSIZE64: u64 = linux_ior(0x12, 114, std::mem::size_of::<usize>());
const BLKPBSZGET: u64 = linux_io(0x12, 123);

/// Opens a file or block device. A block device opened for writing gets O_EXCL (the kernel
/// refuses it with EBUSY while a partition is mounted or held) and an exclusive flock.
pub fn open(path: &str, write: bool) -> io::Result<Opened> {
    let meta = std::fs::metadata(path)?;
    let is_block_device = meta.file_type().is_block_device();
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    if write && is_block_device {
        options.custom_flags(libc::O_EXCL);
    }
    let file = options.open(path)?;
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

fn ioctl_u64(file: &File, request: u64) -> io::Result<u64> {
    let mut value: u64 = 0;
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

fn ioctl_int(file: &File, request: u64) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// (size in bytes, logical sector size, physical sector size) of a block device.
pub fn geometry(file: &File) -> io::Result<(u64, u32, u32)> {
    let size = ioctl_u64(file, BLKGETSIZE64)?;
    let logical = ioctl_int(file, BLKSSZGET)? as u32;
    let physical = ioctl_int(file, BLKPBSZGET).map(|p| p as u32).unwrap_or(logical);
    Ok((size, logical, physical))
}

pub fn read_only(file: &File) -> io::Result<bool> {
    Ok(ioctl_int(file, BLKROGET)? != 0)
}

/// BLKRRPART: the kernel drops and re-reads the whole partition table (EBUSY while a partition
/// is in use, which O_EXCL already ruled out for writers).
pub fn reread(file: &File) -> io::Result<()> {
    if unsafe { libc::ioctl(file.as_raw_fd(), BLKRRPART as _) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn flush(file: &File) -> io::Result<()> {
    file.sync_all()
}

/// Nothing to prepare: O_EXCL at open already guarantees that no partition is mounted.
#[derive(Default)]
pub struct WriteGuard;

pub fn before_write(_file: &File, _guard: &mut WriteGuard, _start: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

fn sys(name: &str, attr: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/block/{name}/{attr}")).ok().map(|s| s.trim().to_string())
}

/// Whole disks from /sys/block: partitions are not listed there, and empty loop devices
/// (size 0) are skipped.
pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    let mut drives = Vec::new();
    for entry in std::fs::read_dir("/sys/block")? {
        let name = entry?.file_name().to_string_lossy().to_string();
        let sectors: u64 = sys(&name, "size").and_then(|s| s.parse().ok()).unwrap_or(0);
        if sectors == 0 || name.starts_with("ram") {
            continue;
        }
        let model = sys(&name, "device/model").or_else(|| sys(&name, "loop/backing_file")).unwrap_or_default();
        drives.push(DriveInfo {
            path: format!("/dev/{name}"),
            model,
            size: sectors * 512, // /sys/block/*/size counts 512-byte units whatever the sector size
            logical_sector_size: sys(&name, "queue/logical_block_size").and_then(|s| s.parse().ok()).unwrap_or(512),
            physical_sector_size: sys(&name, "queue/physical_block_size").and_then(|s| s.parse().ok()).unwrap_or(512),
            removable: sys(&name, "removable").as_deref() == Some("1"),
            read_only: sys(&name, "ro").as_deref() == Some("1"),
        });
    }
    drives.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(drives)
}
