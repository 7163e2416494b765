//! Windows: \\.\PhysicalDriveN, \\.\X: and \\?\Volume{…} through CreateFileW (shared read and
//! write, as the system keeps disks open; GENERIC_WRITE only when writing, with write-through),
//! sizes from IOCTL_DISK_GET_DRIVE_GEOMETRY_EX / IOCTL_DISK_GET_LENGTH_INFO, sector sizes from
//! IOCTL_STORAGE_QUERY_PROPERTY (StorageAccessAlignmentProperty), and IOCTL_DISK_UPDATE_PROPERTIES
//! to make Windows re-read the table. Writes on a disk handle fail inside a mounted volume unless
//! the volume is locked (WriteFile remarks), so a write that reaches into a volume locks it first
//! with FSCTL_LOCK_VOLUME; GPT structures lie outside every partition and need no lock.
//! The structures DeviceIoControl returns are decoded by win_structs (tested on every platform).

use super::{DriveInfo, Opened, Reread};
use crate::partition_sync::Extent;
use crate::aligned::AlignedBuf;
use crate::win_plan::{self, Answer, HandleKind, Step, Volume};
use crate::win_structs;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::{FileExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{ERROR_MORE_DATA, ERROR_NO_MORE_FILES, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    FindFirstVolumeW, FindNextVolumeW, FindVolumeClose, GetVolumePathNamesForVolumeNameW, FILE_FLAG_WRITE_THROUGH, FILE_SHARE_READ, FILE_SHARE_WRITE,
    IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
};
use windows_sys::Win32::System::Ioctl::{
    PropertyStandardQuery, StorageAccessAlignmentProperty, StorageDeviceProperty, FSCTL_DISMOUNT_VOLUME, FSCTL_LOCK_VOLUME, FSCTL_UNLOCK_VOLUME, FSCTL_QUERY_ALLOCATED_RANGES,
    IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, IOCTL_DISK_GET_LENGTH_INFO, IOCTL_DISK_IS_WRITABLE, IOCTL_DISK_UPDATE_PROPERTIES, IOCTL_STORAGE_GET_DEVICE_NUMBER,
    IOCTL_STORAGE_QUERY_PROPERTY,
};
use windows_sys::Win32::System::IO::DeviceIoControl;

const SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE;

fn handle(file: &File) -> HANDLE {
    file.as_raw_handle() as HANDLE
}

/// DeviceIoControl with a byte input and an output buffer of `out_len` bytes; returns the bytes
/// the driver wrote. ERROR_MORE_DATA keeps the partial output (the caller asks again).
fn ioctl(file: &File, code: u32, input: &[u8], out_len: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; out_len];
    let mut returned = 0u32;
    let input_ptr = if input.is_empty() { null() } else { input.as_ptr().cast() };
    let output_ptr = if out.is_empty() { null_mut() } else { out.as_mut_ptr().cast() };
    // SAFETY: the pointers and lengths describe live buffers owned by this frame; no OVERLAPPED.
    let ok = unsafe {
        DeviceIoControl(
            handle(file),
            code,
            input_ptr,
            input.len() as u32,
            output_ptr,
            out_len as u32,
            &mut returned,
            null_mut(),
        )
    };
    if ok == 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(ERROR_MORE_DATA as i32) {
            return Err(err);
        }
    }
    out.truncate(returned as usize);
    Ok(out)
}

/// The same call as an Answer for win_plan: the bytes, or the Win32 error number.
fn ask(file: &File, code: u32, input: &[u8], out_len: usize) -> Answer {
    ioctl(file, code, input, out_len).map_err(|e| e.raw_os_error().unwrap_or(-1) as u32)
}

/// STORAGE_PROPERTY_QUERY { PropertyId, QueryType = PropertyStandardQuery, AdditionalParameters }.
fn property_query(property: i32) -> [u8; 12] {
    let mut q = [0u8; 12];
    q[0..4].copy_from_slice(&property.to_le_bytes());
    q[4..8].copy_from_slice(&PropertyStandardQuery.to_le_bytes());
    q
}

/// Opens a disk, volume or image file; win_plan::is_device tells which it is (a disk answers
/// the length or geometry query; a file has file metadata; `\\?\C:\images\disk.img` is a file
/// even though it has the device-namespace prefix).
pub fn open(path: &str, write: bool) -> io::Result<Opened> {
    let mut options = OpenOptions::new();
    options.read(true).write(write).share_mode(SHARE);
    if write {
        options.custom_flags(FILE_FLAG_WRITE_THROUGH);
    }
    let file = options.open(path)?;
    let meta = file.metadata();
    let is_block_device = win_plan::is_device(
        &ask(&file, IOCTL_DISK_GET_LENGTH_INFO, &[], 8),
        &ask(&file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[], 256),
        meta.as_ref().ok().map(|m| m.is_file()),
    );
    let meta = if is_block_device { None } else { Some(meta?) };
    Ok(Opened {
        len: meta.as_ref().map_or(0, |m| m.len()),
        read_only_file: meta.as_ref().is_some_and(|m| m.permissions().readonly()),
        file,
        is_block_device,
    })
}

/// (size in bytes, logical sector size, physical sector size), from whichever of the three
/// queries answer; win_plan::geometry says which wins and what stands in for a missing one,
/// down to finding the end by reading when no query tells the size (Wine's DOS devices).
pub fn geometry(file: &File) -> io::Result<(u64, u32, u32)> {
    let g = win_plan::geometry(
        &ask(file, IOCTL_DISK_GET_LENGTH_INFO, &[], 8),
        &ask(file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[], 256),
        &ask(file, IOCTL_STORAGE_QUERY_PROPERTY, &property_query(StorageAccessAlignmentProperty), 64),
        |sector| {
            let mut buf = AlignedBuf::zeroed(win_plan::DEFAULT_SECTOR as usize);
            win_plan::find_end(sector, |n| Ok(pread(file, &mut buf, n * sector)? > 0))
        },
    )?;
    Ok((g.size, g.logical, g.physical))
}

/// IOCTL_DISK_IS_WRITABLE; see win_plan::read_only for what an unanswered query means.
pub fn read_only(file: &File) -> io::Result<bool> {
    Ok(win_plan::read_only(&ask(file, IOCTL_DISK_IS_WRITABLE, &[], 0)))
}

/// IOCTL_DISK_UPDATE_PROPERTIES: "invalidates the cached partition table and re-enumerates the
/// device"; it needs no lock and works on the running system's disk. Wine answers
/// ERROR_NOT_SUPPORTED; the CLI then says the OS did not re-read the table, and the write stands.
pub fn reread(file: &File, _table: &[Extent]) -> io::Result<Reread> {
    ioctl(file, IOCTL_DISK_UPDATE_PROPERTIES, &[], 0).map(|_| Reread::Reread)
}

pub fn flush(file: &File) -> io::Result<()> {
    file.sync_all() // FlushFileBuffers
}

pub fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buf, offset)
}

pub fn pwrite(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    file.seek_write(buf, offset)
}

/// Volumes locked (and dismounted) for this device's writes; closing their handles (on drop)
/// unlocks them, and Windows mounts them again at their next use.
#[derive(Default)]
pub struct WriteGuard {
    locked: Vec<(String, File)>,
    self_locked: bool,
}

/// Before a write to [start, start + len) of a device: a volume handle (\\.\X:) locks itself; a
/// disk handle locks, then dismounts, every volume with an extent on this disk that the write
/// reaches into (win_plan::volumes_to_lock, lock_steps). A lock that fails (files open, the system
/// volume, a page file) refuses the write: EBUSY, naming the volume, with the locks this call took
/// released again. A BitLocker volume in the range refuses it too (EACCES).
pub fn before_write(file: &File, guard: &mut WriteGuard, start: u64, len: u64) -> io::Result<()> {
    let kind = win_plan::handle_kind(
        &ask(file, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[], 1024),
        &ask(file, IOCTL_STORAGE_GET_DEVICE_NUMBER, &[], 12),
    );
    let disk = match kind {
        HandleKind::Volume => {
            if !guard.self_locked {
                ioctl(file, FSCTL_LOCK_VOLUME, &[], 0).map_err(|e| busy_self(&e))?;
                guard.self_locked = true;
            }
            return Ok(());
        }
        HandleKind::Unknown => return Ok(()),
        HandleKind::Disk(n) => n,
    };
    let volumes = volumes()?;
    let held: Vec<String> = guard.locked.iter().map(|(n, _)| n.clone()).collect();
    let touched = win_plan::volumes_to_lock(disk, &volumes, start, len, &held);
    for volume in &touched {
        if first_sector_is_bitlocker(file, volume, disk)? {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, win_plan::bitlocker_refused(volume)));
        }
    }
    let mut taken: Vec<(String, File)> = Vec::new();
    for step in win_plan::lock_steps(&touched) {
        match step {
            Step::Lock(name) => {
                let volume = touched.iter().find(|v| v.name == name).expect("lock_steps names only touched volumes");
                let locked = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .share_mode(SHARE)
                    .open(&name)
                    .and_then(|h| ioctl(&h, FSCTL_LOCK_VOLUME, &[], 0).map(|_| h));
                match locked {
                    Ok(h) => taken.push((name, h)),
                    // Returning drops `taken`: the locks this call took are released.
                    Err(e) => return Err(io::Error::new(io::ErrorKind::ResourceBusy, win_plan::lock_refused(volume, &describe(&e)))),
                }
            }
            Step::Dismount(name) => {
                let (_, h) = taken.iter().find(|(n, _)| *n == name).expect("locked before dismounted");
                // Under the lock a dismount is not refused for open files; should it fail anyway,
                // the lock alone already lets the write through (WriteFile remarks).
                let _ = ioctl(h, FSCTL_DISMOUNT_VOLUME, &[], 0);
            }
        }
    }
    guard.locked.extend(taken);
    Ok(())
}

/// Reads the first sector of the volume's first extent on this disk through the disk handle.
fn first_sector_is_bitlocker(file: &File, volume: &Volume, disk: u32) -> io::Result<bool> {
    let Some(first) = volume.extents.iter().filter(|e| e.disk == disk).min_by_key(|e| e.start) else {
        return Ok(false);
    };
    let (_, logical, _) = geometry(file)?;
    let mut sector = AlignedBuf::zeroed(logical.max(512) as usize);
    let n = pread(file, &mut sector, first.start)?;
    Ok(win_plan::is_bitlocker(&sector[..n]))
}

fn describe(err: &io::Error) -> String {
    error_name(err).map_or_else(|| err.to_string(), str::to_string)
}

fn busy_self(err: &io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::ResourceBusy,
        format!("this volume cannot be locked ({}): close the programs using it first", describe(err)),
    )
}

/// Every volume (\\?\Volume{GUID} without the trailing backslash) with its disk extents and
/// mount points.
fn volumes() -> io::Result<Vec<Volume>> {
    let mut name = [0u16; 512];
    // SAFETY: the buffer length is passed along with the buffer.
    let find = unsafe { FindFirstVolumeW(name.as_mut_ptr(), name.len() as u32) };
    if find == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    loop {
        let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        let with_slash = &name[..end];
        let path = String::from_utf16_lossy(with_slash).trim_end_matches('\\').to_string();
        // Query-only access (no read/write rights) is enough for the extents.
        if let Ok(volume) = OpenOptions::new().access_mode(0).share_mode(SHARE).open(&path) {
            if let Ok(bytes) = ioctl(&volume, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[], 8 + 24 * 32) {
                found.push(Volume {
                    mount_points: mount_points(with_slash),
                    name: path,
                    extents: win_structs::volume_disk_extents(&bytes),
                });
            }
        }
        // SAFETY: as above; `find` stays valid until FindVolumeClose.
        if unsafe { FindNextVolumeW(find, name.as_mut_ptr(), name.len() as u32) } == 0 {
            let err = io::Error::last_os_error();
            // SAFETY: `find` came from FindFirstVolumeW and is closed once, here.
            unsafe { FindVolumeClose(find) };
            return if err.raw_os_error() == Some(ERROR_NO_MORE_FILES as i32) {
                Ok(found)
            } else {
                Err(err)
            };
        }
    }
}

/// GetVolumePathNamesForVolumeNameW: the volume's drive letters and folder mount points, for
/// messages; none when it has none (an ESP) or the call fails.
fn mount_points(volume_with_slash: &[u16]) -> Vec<String> {
    let mut name: Vec<u16> = volume_with_slash.to_vec();
    name.push(0);
    let mut buf = vec![0u16; 1024];
    let mut needed = 0u32;
    // SAFETY: `name` is NUL-terminated, and the buffer's length is passed along with it.
    let ok = unsafe { GetVolumePathNamesForVolumeNameW(name.as_ptr(), buf.as_mut_ptr(), buf.len() as u32, &mut needed) };
    if ok == 0 {
        return Vec::new();
    }
    win_structs::multi_sz(&buf)
}

/// \\.\PhysicalDrive0 … 63, probed with query-only handles. Numbers can have gaps after a
/// hot-unplug, so the probe does not stop at the first missing one.
pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    let mut drives = Vec::new();
    for n in 0..64 {
        let path = format!(r"\\.\PhysicalDrive{n}");
        let Ok(file) = OpenOptions::new().access_mode(0).share_mode(SHARE).open(&path) else {
            continue;
        };
        let Ok((size, logical, physical)) = geometry(&file) else { continue };
        let descriptor = ioctl(&file, IOCTL_STORAGE_QUERY_PROPERTY, &property_query(StorageDeviceProperty), 1024)
            .ok()
            .and_then(|b| win_structs::device_descriptor(&b));
        drives.push(DriveInfo {
            path,
            model: descriptor.as_ref().map(|d| d.model.clone()).unwrap_or_default(),
            size,
            logical_sector_size: logical,
            physical_sector_size: physical,
            removable: descriptor.is_some_and(|d| d.removable),
            read_only: read_only(&file).unwrap_or(false),
        });
    }
    Ok(drives)
}

/// What each query the backend relies on answers for `path`: the bytes returned, or the Win32
/// error. With `write`, the handle is opened for writing and FSCTL_LOCK_VOLUME (undone at once
/// with FSCTL_UNLOCK_VOLUME) and IOCTL_DISK_UPDATE_PROPERTIES are tried too; nothing is written
/// and nothing dismounted. For the Wine tests (docs/ARCHITECTURE.md §3), and as a diagnostic.
pub fn probe(path: &str, write: bool) -> io::Result<Vec<(&'static str, Answer)>> {
    let file = OpenOptions::new().read(true).write(write).share_mode(SHARE).open(path)?;
    let mut answers = vec![
        ("IOCTL_DISK_GET_LENGTH_INFO", ask(&file, IOCTL_DISK_GET_LENGTH_INFO, &[], 8)),
        ("IOCTL_DISK_GET_DRIVE_GEOMETRY_EX", ask(&file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[], 256)),
        (
            "IOCTL_STORAGE_QUERY_PROPERTY(StorageAccessAlignmentProperty)",
            ask(&file, IOCTL_STORAGE_QUERY_PROPERTY, &property_query(StorageAccessAlignmentProperty), 64),
        ),
        (
            "IOCTL_STORAGE_QUERY_PROPERTY(StorageDeviceProperty)",
            ask(&file, IOCTL_STORAGE_QUERY_PROPERTY, &property_query(StorageDeviceProperty), 1024),
        ),
        ("IOCTL_DISK_IS_WRITABLE", ask(&file, IOCTL_DISK_IS_WRITABLE, &[], 0)),
        ("IOCTL_STORAGE_GET_DEVICE_NUMBER", ask(&file, IOCTL_STORAGE_GET_DEVICE_NUMBER, &[], 12)),
        ("IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS", ask(&file, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[], 1024)),
    ];
    if write {
        let lock = ask(&file, FSCTL_LOCK_VOLUME, &[], 0);
        let locked = lock.is_ok();
        answers.push(("FSCTL_LOCK_VOLUME", lock));
        if locked {
            answers.push(("FSCTL_UNLOCK_VOLUME", ask(&file, FSCTL_UNLOCK_VOLUME, &[], 0)));
        }
        answers.push(("IOCTL_DISK_UPDATE_PROPERTIES", ask(&file, IOCTL_DISK_UPDATE_PROPERTIES, &[], 0)));
    }
    Ok(answers)
}

/// FSCTL_QUERY_ALLOCATED_RANGES: the allocated parts of a sparse file (one range for others).
pub fn data_ranges(file: &File, size: u64) -> io::Result<Vec<(u64, u64)>> {
    let mut ranges = Vec::new();
    let mut from = 0u64;
    while from < size {
        let mut query = [0u8; 16];
        query[0..8].copy_from_slice(&(from as i64).to_le_bytes());
        query[8..16].copy_from_slice(&((size - from) as i64).to_le_bytes());
        let Ok(bytes) = ioctl(file, FSCTL_QUERY_ALLOCATED_RANGES, &query, 16 * 1024) else {
            return Ok(vec![(0, size)]); // a file system that cannot tell: read it all
        };
        let batch = win_structs::allocated_ranges(&bytes);
        let Some(&(_, end)) = batch.last() else { break };
        ranges.extend(batch);
        if bytes.len() < 16 * 1024 || end <= from {
            break; // the answer was complete
        }
        from = end;
    }
    Ok(ranges)
}

/// The stable code for a Win32 error (ERROR_ACCESS_DENIED → EACCES, …).
pub fn error_code(err: &io::Error) -> Option<&'static str> {
    win_structs::win32_error_code(err.raw_os_error()? as u32).map(|(code, _)| code)
}

/// The Win32 name of the error, for messages.
pub fn error_name(err: &io::Error) -> Option<&'static str> {
    win_structs::win32_error_code(err.raw_os_error()? as u32).map(|(_, name)| name)
}
