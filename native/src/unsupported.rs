//! Platforms without a device backend (the BSDs, …): image files work through positional I/O;
//! device-only calls say they are not supported.

use super::{DriveInfo, Opened, Reread};
use crate::partition_sync::Extent;
use std::fs::File;
use std::io;

pub use crate::posix::{data_ranges, error_code, pread, pwrite};

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "raw devices are not supported on this platform")
}

pub fn open(path: &str, write: bool) -> io::Result<Opened> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(unsupported());
    }
    let file = std::fs::OpenOptions::new().read(true).write(write).open(path)?;
    Ok(Opened {
        file,
        is_block_device: false,
        len: meta.len(),
        read_only_file: meta.permissions().readonly(),
    })
}
pub fn geometry(_file: &File) -> io::Result<(u64, u32, u32)> {
    Err(unsupported())
}
pub fn read_only(_file: &File) -> io::Result<bool> {
    Ok(false)
}
pub fn reread(_file: &File, _table: &[Extent]) -> io::Result<Reread> {
    Err(unsupported())
}
pub fn flush(file: &File) -> io::Result<()> {
    file.sync_all()
}
#[derive(Default)]
pub struct WriteGuard;
pub fn before_write(_file: &File, _guard: &mut WriteGuard, _start: u64, _len: u64) -> io::Result<()> {
    Ok(())
}
pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    Err(unsupported())
}
