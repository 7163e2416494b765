//! Linux: block-device ioctls (linux/fs.h), O_EXCL + flock for writers, /sys/block for listing.

use super::DriveInfo;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;

// _IO/_IOR(0x12, n, …) from linux/fs.h.
const BLKROGET: libc::c_ulong = 0x125e;
const BLKRRPART: libc::c_ulong = 0x125f;
const BLKSSZGET: libc::c_ulong = 0x1268;
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;
const BLKPBSZGET: libc::c_ulong = 0x127b;

pub fn is_block_device(m: &Metadata) -> bool {
    m.file_type().is_block_device()
}

pub fn exclusive(options: &mut OpenOptions) {
    options.custom_flags(libc::O_EXCL);
}

pub fn lock(file: &File) -> io::Result<()> {
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn ioctl_u64(file: &File, request: libc::c_ulong) -> io::Result<u64> {
    let mut value: u64 = 0;
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

fn ioctl_int(file: &File, request: libc::c_ulong) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

pub fn geometry(file: &File) -> io::Result<(u64, u32, u32)> {
    let size = ioctl_u64(file, BLKGETSIZE64)?;
    let logical = ioctl_int(file, BLKSSZGET)? as u32;
    let physical = ioctl_int(file, BLKPBSZGET).map(|p| p as u32).unwrap_or(logical);
    Ok((size, logical, physical))
}

pub fn read_only(file: &File) -> io::Result<bool> {
    Ok(ioctl_int(file, BLKROGET)? != 0)
}

pub fn reread(file: &File) -> io::Result<()> {
    if unsafe { libc::ioctl(file.as_raw_fd(), BLKRRPART as _) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.read_at(buf, offset)
}

pub fn pwrite(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    file.write_at(buf, offset)
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

/// SEEK_DATA/SEEK_HOLE walk; a file system without support answers with the whole file.
pub fn data_ranges(file: &File, size: u64) -> io::Result<Vec<(u64, u64)>> {
    let fd = file.as_raw_fd();
    let mut ranges = Vec::new();
    let mut at: i64 = 0;
    while (at as u64) < size {
        let start = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
        if start < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `at`
            }
            return Ok(vec![(0, size)]);
        }
        let end = unsafe { libc::lseek(fd, start, libc::SEEK_HOLE) };
        let end = if end < 0 { size as i64 } else { end };
        ranges.push((start as u64, end as u64));
        at = end;
    }
    Ok(ranges)
}
