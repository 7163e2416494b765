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
use crate::win_structs::{self, DiskExtent};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::{FileExt, OpenOptionsExt};
use std::os::windows::io::AsRawHandle;
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{ERROR_MORE_DATA, ERROR_NO_MORE_FILES, ERROR_WRITE_PROTECT, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    FindFirstVolumeW, FindNextVolumeW, FindVolumeClose, FILE_FLAG_WRITE_THROUGH, FILE_SHARE_READ, FILE_SHARE_WRITE, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
};
use windows_sys::Win32::System::Ioctl::{
    PropertyStandardQuery, StorageAccessAlignmentProperty, StorageDeviceProperty, FSCTL_LOCK_VOLUME, FSCTL_QUERY_ALLOCATED_RANGES,
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

/// STORAGE_PROPERTY_QUERY { PropertyId, QueryType = PropertyStandardQuery, AdditionalParameters }.
fn property_query(property: i32) -> [u8; 12] {
    let mut q = [0u8; 12];
    q[0..4].copy_from_slice(&property.to_le_bytes());
    q[4..8].copy_from_slice(&PropertyStandardQuery.to_le_bytes());
    q
}

/// Opens a disk, volume or image file. Only a handle that answers IOCTL_DISK_GET_LENGTH_INFO is
/// a device: `\\?\C:\images\disk.img` is a file even though it has the device-namespace prefix.
pub fn open(path: &str, write: bool) -> io::Result<Opened> {
    let mut options = OpenOptions::new();
    options.read(true).write(write).share_mode(SHARE);
    if write {
        options.custom_flags(FILE_FLAG_WRITE_THROUGH);
    }
    let file = options.open(path)?;
    let is_block_device = ioctl(&file, IOCTL_DISK_GET_LENGTH_INFO, &[], 8).is_ok();
    let meta = if is_block_device { None } else { Some(file.metadata()?) };
    Ok(Opened {
        len: meta.as_ref().map_or(0, |m| m.len()),
        read_only_file: meta.as_ref().is_some_and(|m| m.permissions().readonly()),
        file,
        is_block_device,
    })
}

/// (size in bytes, logical sector size, physical sector size). DiskSize of the geometry (never
/// cylinders × heads × sectors); volumes, which may not answer it, give GET_LENGTH_INFO.
pub fn geometry(file: &File) -> io::Result<(u64, u32, u32)> {
    let geometry = ioctl(file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[], 256)
        .ok()
        .and_then(|b| win_structs::geometry_ex(&b));
    let length = || -> io::Result<u64> {
        let b = ioctl(file, IOCTL_DISK_GET_LENGTH_INFO, &[], 8)?;
        Ok(i64::from_le_bytes(b.get(0..8).and_then(|s| s.try_into().ok()).unwrap_or([0; 8])).max(0) as u64)
    };
    let alignment = ioctl(file, IOCTL_STORAGE_QUERY_PROPERTY, &property_query(StorageAccessAlignmentProperty), 64)
        .ok()
        .and_then(|b| win_structs::access_alignment(&b));
    let (size, logical) = match geometry {
        Some(g) => g,
        None => (length()?, alignment.map_or(512, |a| a.0)),
    };
    let physical = alignment.map_or(logical, |a| a.1);
    Ok((size, logical, physical))
}

/// IOCTL_DISK_IS_WRITABLE fails with ERROR_WRITE_PROTECT on write-protected media.
pub fn read_only(file: &File) -> io::Result<bool> {
    match ioctl(file, IOCTL_DISK_IS_WRITABLE, &[], 0) {
        Ok(_) => Ok(false),
        Err(e) if e.raw_os_error() == Some(ERROR_WRITE_PROTECT as i32) => Ok(true),
        Err(e) => Err(e),
    }
}

/// IOCTL_DISK_UPDATE_PROPERTIES: "invalidates the cached partition table and re-enumerates the
/// device"; it needs no lock and works on the running system's disk.
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

/// Volumes locked for this device's writes; closing their handles (on drop) unlocks them.
#[derive(Default)]
pub struct WriteGuard {
    locked: Vec<(String, File)>,
    self_locked: bool,
}

/// Before a write to [start, start + len) of a device: a volume handle (\\.\X:) locks itself; a
/// disk handle locks every volume with an extent on this disk that the write reaches into.
/// A lock that fails (files open, the system volume, a page file) refuses the write: EBUSY.
pub fn before_write(file: &File, guard: &mut WriteGuard, start: u64, len: u64) -> io::Result<()> {
    if ioctl(file, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[], 1024).is_ok() {
        if !guard.self_locked {
            ioctl(file, FSCTL_LOCK_VOLUME, &[], 0).map_err(|e| busy("this volume", e))?;
            guard.self_locked = true;
        }
        return Ok(());
    }
    let disk = win_structs::device_number(&ioctl(file, IOCTL_STORAGE_GET_DEVICE_NUMBER, &[], 12)?)
        .ok_or_else(|| io::Error::other("IOCTL_STORAGE_GET_DEVICE_NUMBER returned nothing"))?;
    for (name, extents) in volumes()? {
        let touched = extents.iter().any(|e: &DiskExtent| e.disk == disk && win_structs::overlaps(e, start, len));
        if !touched || guard.locked.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let volume = OpenOptions::new().read(true).write(true).share_mode(SHARE).open(&name)?;
        ioctl(&volume, FSCTL_LOCK_VOLUME, &[], 0).map_err(|e| busy(&name, e))?;
        guard.locked.push((name, volume));
    }
    Ok(())
}

fn busy(what: &str, err: io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::ResourceBusy,
        format!("{what} lies in the range being written and cannot be locked ({err}): close the programs using it, or dismount it (mountvol X: /p) first"),
    )
}

/// Every volume (\\?\Volume{GUID} without the trailing backslash) with its disk extents.
fn volumes() -> io::Result<Vec<(String, Vec<DiskExtent>)>> {
    let mut name = [0u16; 512];
    // SAFETY: the buffer length is passed along with the buffer.
    let find = unsafe { FindFirstVolumeW(name.as_mut_ptr(), name.len() as u32) };
    if find == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    loop {
        let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        let path = String::from_utf16_lossy(&name[..end]).trim_end_matches('\\').to_string();
        // Query-only access (no read/write rights) is enough for the extents.
        if let Ok(volume) = OpenOptions::new().access_mode(0).share_mode(SHARE).open(&path) {
            if let Ok(bytes) = ioctl(&volume, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, &[], 8 + 24 * 32) {
                found.push((path, win_structs::volume_disk_extents(&bytes)));
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
