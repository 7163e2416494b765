//! Plain Rust core: open a disk (block device or image file), learn its size and sector sizes
//! from the OS, read and write through sector-aligned bounce buffers, flush, and ask the kernel
//! to re-read the partition table. No napi here, so `cargo test` exercises it on files and loops.

use crate::aligned::AlignedBuf;
pub use crate::partition_sync::{Extent, SyncReport};
use std::fs::File;
use std::io;
use std::sync::Mutex;

/// What a platform backend hands back from opening a path.
pub struct Opened {
    pub file: File,
    /// A disk or volume (as opposed to an image file).
    pub is_block_device: bool,
    /// The length of an image file (devices report their size through `geometry`).
    pub len: u64,
    /// An image file without write permission.
    pub read_only_file: bool,
}

/// An open disk. Reads and writes may be at any offset; the core widens them to whole logical
/// sectors and moves them through sector-aligned bounce buffers, because raw devices (and
/// Windows volumes) reject unaligned I/O.
pub struct Device {
    file: File,
    guard: Mutex<platform::WriteGuard>,
    pub path: String,
    pub size: u64,
    pub logical_sector_size: u32,
    pub physical_sector_size: u32,
    pub read_only: bool,
    pub is_block_device: bool,
}

impl Device {
    /// Opens `path` read-only, or for writing with the platform's exclusivity rules: Linux
    /// O_EXCL + flock, Windows shared handles plus volume locks where a write reaches a volume,
    /// macOS the kernel's own refusal while a volume is mounted.
    pub fn open(path: &str, write: bool) -> io::Result<Device> {
        let Opened {
            file,
            is_block_device,
            len,
            read_only_file,
        } = platform::open(path, write)?;
        let (size, logical, physical) = if is_block_device { platform::geometry(&file)? } else { (len, 512, 512) };
        let read_only = if is_block_device {
            platform::read_only(&file).unwrap_or(false)
        } else {
            read_only_file
        };
        Ok(Device {
            file,
            #[allow(clippy::default_constructed_unit_structs)] // a unit struct except on Windows
            guard: Mutex::new(platform::WriteGuard::default()),
            path: path.to_string(),
            size,
            logical_sector_size: logical,
            physical_sector_size: physical,
            read_only,
            is_block_device,
        })
    }

    /// The whole sectors covering [offset, offset + len).
    fn span(&self, offset: u64, len: usize) -> (u64, usize) {
        let sector = self.logical_sector_size as u64;
        let start = offset / sector * sector;
        let end = (offset + len as u64).div_ceil(sector) * sector;
        (start, (end - start) as usize)
    }

    /// Reads whole sectors into an aligned buffer; short only at the end of the disk.
    fn read_span(&self, start: u64, span: usize) -> io::Result<(AlignedBuf, usize)> {
        let mut buf = AlignedBuf::zeroed(span);
        let mut done = 0;
        while done < span {
            let n = platform::pread(&self.file, &mut buf[done..], start + done as u64)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok((buf, done))
    }

    /// Reads `len` bytes at `offset`, clipped to the end of the disk.
    pub fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let len = len.min(self.size.saturating_sub(offset) as usize);
        if len == 0 {
            return Ok(Vec::new());
        }
        let (start, span) = self.span(offset, len);
        let (buf, done) = self.read_span(start, span)?;
        let skip = (offset - start) as usize;
        Ok(buf[..done].get(skip..(skip + len).min(done)).unwrap_or(&[]).to_vec())
    }

    /// Writes `data` at `offset`; partial sectors at either edge are read, patched and rewritten.
    pub fn write_at(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        if offset + data.len() as u64 > self.size {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "write past the end of the disk"));
        }
        let (start, span) = self.span(offset, data.len());
        if self.is_block_device {
            platform::before_write(&self.file, &mut self.guard.lock().unwrap(), start, span as u64)?;
        }
        let mut buf = if start == offset && span == data.len() {
            AlignedBuf::zeroed(span)
        } else {
            let (buf, done) = self.read_span(start, span)?;
            if done < span {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the disk ended inside the sectors being written"));
            }
            buf
        };
        let at = (offset - start) as usize;
        buf[at..at + data.len()].copy_from_slice(data);
        let mut done = 0;
        while done < span {
            done += platform::pwrite(&self.file, &buf[done..], start + done as u64)?;
        }
        Ok(())
    }

    /// Makes written data durable: fsync (Linux), F_FULLFSYNC (macOS), FlushFileBuffers (Windows).
    pub fn flush(&self) -> io::Result<()> {
        platform::flush(&self.file)
    }

    /// Makes the OS read the partition table again (BLKRRPART, IOCTL_DISK_UPDATE_PROPERTIES);
    /// on Linux, when a partition is open, tells the kernel of each change in `table` instead
    /// (BLKPG). Nothing for image files.
    pub fn reread_partitions(&self, table: &[Extent]) -> io::Result<Reread> {
        if self.is_block_device {
            platform::reread(&self.file, table)
        } else {
            Ok(Reread::NotADevice)
        }
    }
}

/// How the OS learnt of a new partition table.
#[derive(Debug, PartialEq, Eq)]
pub enum Reread {
    /// An image file: nothing to tell.
    NotADevice,
    /// The whole table was re-read.
    Reread,
    /// Partition by partition (Linux BLKPG), because a partition is open.
    Updated(SyncReport),
}

/// One physical drive as the OS lists it.
#[derive(Debug, Clone)]
pub struct DriveInfo {
    pub path: String,
    pub model: String,
    pub size: u64,
    pub logical_sector_size: u32,
    pub physical_sector_size: u32,
    pub removable: bool,
    pub read_only: bool,
}

pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    platform::list_drives()
}

/// The byte ranges of a file that hold data, skipping the holes of a sparse file (SEEK_DATA /
/// SEEK_HOLE, FSCTL_QUERY_ALLOCATED_RANGES). Where that cannot be told, the whole file.
pub fn data_ranges(path: &str) -> io::Result<Vec<(u64, u64)>> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    platform::data_ranges(&file, size)
}

/// One ioctl the Windows backend relies on, and what the device answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoctlAnswer {
    pub ioctl: &'static str,
    /// Bytes returned, when it succeeded.
    pub bytes: usize,
    /// The first 64 of them, in hex, to read what a driver answered.
    pub hex: String,
    /// The Win32 error's name (ERROR_INVALID_FUNCTION, …) or number, when it failed.
    pub error: Option<String>,
}

/// Windows only: what each query the backend relies on answers for `path` (with `write`, also the
/// volume lock and the table re-read, undone or harmless). Elsewhere: ENOTSUP.
pub fn probe_ioctls(path: &str, write: bool) -> io::Result<Vec<IoctlAnswer>> {
    #[cfg(windows)]
    return Ok(platform::probe(path, write)?
        .into_iter()
        .map(|(ioctl, answer)| IoctlAnswer {
            ioctl,
            bytes: answer.as_ref().map_or(0, |b| b.len()),
            hex: answer.as_ref().map_or_else(|_| String::new(), |b| b.iter().take(64).map(|x| format!("{x:02x}")).collect()),
            error: answer.err().map(|code| {
                crate::win_structs::win32_error_code(code).map_or_else(|| format!("Win32 error {code}"), |(_, name)| name.to_string())
            }),
        })
        .collect());
    #[cfg(not(windows))]
    {
        let _ = (path, write);
        Err(io::Error::new(io::ErrorKind::Unsupported, "the ioctl probe is for Windows devices"))
    }
}

/// A stable error code for an I/O error (the POSIX name; Windows errors are mapped onto them).
pub fn error_code(err: &io::Error) -> &'static str {
    platform::error_code(err).unwrap_or(match err.kind() {
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::InvalidInput => "EINVAL",
        io::ErrorKind::ResourceBusy => "EBUSY",
        io::ErrorKind::ReadOnlyFilesystem => "EROFS",
        io::ErrorKind::Unsupported => "ENOTSUP",
        _ => "EIO",
    })
}

/// The OS's own name for the error where it has one beyond the code (Windows: ERROR_…).
pub fn error_name(err: &io::Error) -> Option<&'static str> {
    #[cfg(windows)]
    return platform::error_name(err);
    #[cfg(not(windows))]
    {
        let _ = err;
        None
    }
}

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod platform;

#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod platform;

#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[path = "unsupported.rs"]
mod platform;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_and_writes_unaligned_ranges_of_a_file() {
        let path = std::env::temp_dir().join(format!("gptdoctor-native-{}.img", std::process::id()));
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![7u8; 4096]).unwrap();
        drop(f);
        let dev = Device::open(path.to_str().unwrap(), true).unwrap();
        assert_eq!(dev.size, 4096);
        assert!(!dev.is_block_device);
        dev.write_at(510, &[1, 2, 3, 4]).unwrap();
        dev.flush().unwrap();
        assert_eq!(dev.read_at(509, 6).unwrap(), vec![7, 1, 2, 3, 4, 7]);
        assert_eq!(dev.read_at(4094, 10).unwrap(), vec![7, 7]);
        assert!(dev.read_at(5000, 1).unwrap().is_empty());
        assert!(dev.write_at(4095, &[0, 0]).is_err());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn finds_the_data_in_a_sparse_file() {
        let path = std::env::temp_dir().join(format!("gptdoctor-sparse-{}.img", std::process::id()));
        let f = File::create(&path).unwrap();
        f.set_len(64 << 20).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, &[1u8; 4096], 32 << 20).unwrap();
        drop(f);
        let ranges = data_ranges(path.to_str().unwrap()).unwrap();
        let covered: u64 = ranges.iter().map(|(a, b)| b - a).sum();
        assert!(ranges.iter().any(|&(a, b)| a <= 32 << 20 && b >= (32 << 20) + 4096));
        assert!(covered < 8 << 20, "holes should be skipped, got {ranges:?}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn names_errors_by_their_posix_code() {
        let err = Device::open("/nonexistent/disk", false).err().unwrap();
        assert_eq!(error_code(&err), "ENOENT");
    }
}
