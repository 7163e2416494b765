//! Linux: block-device ioctls (linux/fs.h), O_EXCL + flock for writers, /sys/block for listing.

use super::{DriveInfo, Opened, Reread};
use crate::ioctl_numbers::{linux_io, linux_ior};
use crate::partition_sync::{plan, Extent, Step, SyncReport};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;

pub use crate::posix::{data_ranges, error_code, pread, pwrite};

const BLKROGET: u64 = linux_io(0x12, 94);
const BLKRRPART: u64 = linux_io(0x12, 95);
const BLKSSZGET: u64 = linux_io(0x12, 104);
const BLKGETSIZE64: u64 = linux_ior(0x12, 114, std::mem::size_of::<usize>());
const BLKPBSZGET: u64 = linux_io(0x12, 123);
const BLKPG: u64 = linux_io(0x12, 105);
const BLKPG_ADD_PARTITION: libc::c_int = 1;
const BLKPG_DEL_PARTITION: libc::c_int = 2;
const BLKPG_RESIZE_PARTITION: libc::c_int = 3;

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
    // SAFETY: the descriptor is open for the life of `file`; the request writes one u64 into `value`.
    if unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut value) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

fn ioctl_int(file: &File, request: u64) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    // SAFETY: the descriptor is open for the life of `file`; the request writes one c_int into `value`.
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

/// BLKRRPART: the kernel drops and re-reads the whole partition table. It refuses (EBUSY) while
/// any partition is open: O_EXCL rules out mounts and exclusive holders, but not a process that
/// merely reads a partition. Then the kernel is told of each changed partition instead (BLKPG, as
/// partx and libfdisk do), and partitions still in use keep their old extent until released.
pub fn reread(file: &File, table: &[Extent]) -> io::Result<Reread> {
    // SAFETY: BLKRRPART takes no argument; the descriptor is open for the life of `file`.
    if unsafe { libc::ioctl(file.as_raw_fd(), BLKRRPART as _) } == 0 {
        return Ok(Reread::Reread);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EBUSY) {
        return Err(err);
    }
    let kernel = kernel_partitions(file)?;
    let mut report = SyncReport::default();
    // A partition the kernel would not remove is not added again at its new place.
    let mut kept = Vec::new();
    for step in plan(&kernel, table) {
        if matches!(step, Step::Add(e) if kept.contains(&e.number)) {
            continue;
        }
        let (op, extent, done) = match step {
            Step::Remove(e) => (BLKPG_DEL_PARTITION, e, "removed"),
            Step::Grow(e) => (BLKPG_RESIZE_PARTITION, e, "grown"),
            Step::Add(e) => (BLKPG_ADD_PARTITION, e, "added"),
        };
        match blkpg(file, op, extent) {
            Ok(()) => report.done.push(format!("partition {} {done}", extent.number)),
            Err(e) => {
                kept.push(extent.number);
                report.failed.push(if e.raw_os_error() == Some(libc::EBUSY) {
                    format!("partition {}: in use, the kernel keeps its old extent", extent.number)
                } else {
                    format!("partition {}: {e}", extent.number)
                });
            }
        }
    }
    Ok(Reread::Updated(report))
}

/// struct blkpg_partition (linux/blkpg.h): byte extent, number, and two names the kernel ignores.
#[repr(C)]
struct BlkpgPartition {
    start: libc::c_longlong,
    length: libc::c_longlong,
    pno: libc::c_int,
    devname: [libc::c_char; 64],
    volname: [libc::c_char; 64],
}

/// struct blkpg_ioctl_arg (linux/blkpg.h).
#[repr(C)]
struct BlkpgIoctlArg {
    op: libc::c_int,
    flags: libc::c_int,
    datalen: libc::c_int,
    data: *mut libc::c_void,
}

fn blkpg(file: &File, op: libc::c_int, extent: Extent) -> io::Result<()> {
    let mut partition = BlkpgPartition {
        start: extent.start as libc::c_longlong,
        length: extent.length as libc::c_longlong,
        pno: extent.number as libc::c_int,
        devname: [0; 64],
        volname: [0; 64],
    };
    let mut arg = BlkpgIoctlArg {
        op,
        flags: 0,
        datalen: std::mem::size_of::<BlkpgPartition>() as libc::c_int,
        data: &mut partition as *mut BlkpgPartition as *mut libc::c_void,
    };
    // SAFETY: `arg` and the `partition` it points to live on this frame for the whole call, laid
    // out as <linux/blkpg.h> defines them (repr(C)); the kernel only reads them.
    if unsafe { libc::ioctl(file.as_raw_fd(), BLKPG as _, &mut arg) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The partitions the kernel knows on this disk, from /sys/dev/block/MAJ:MIN/*/{partition,start,size}
/// (start and size count 512-byte units whatever the sector size).
fn kernel_partitions(file: &File) -> io::Result<Vec<Extent>> {
    let rdev = file.metadata()?.rdev();
    let disk = format!("/sys/dev/block/{}:{}", libc::major(rdev), libc::minor(rdev));
    let read = |dir: &std::path::Path, name: &str| -> Option<u64> { std::fs::read_to_string(dir.join(name)).ok()?.trim().parse().ok() };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&disk)? {
        let dir = entry?.path();
        if let (Some(number), Some(start), Some(size)) = (read(&dir, "partition"), read(&dir, "start"), read(&dir, "size")) {
            found.push(Extent {
                number: number as u32,
                start: start * 512,
                length: size * 512,
            });
        }
    }
    found.sort_by_key(|e| e.number);
    Ok(found)
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
