//! Platforms without a device backend yet (Windows, macOS): image files work through plain
//! positional I/O; device-only calls say they are not supported.

use super::DriveInfo;
use std::fs::{File, Metadata, OpenOptions};
use std::io;

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "raw devices are not supported on this platform yet")
}

pub fn is_block_device(_m: &Metadata) -> bool {
    false
}
pub fn exclusive(_options: &mut OpenOptions) {}
pub fn lock(_file: &File) -> io::Result<()> {
    Ok(())
}
pub fn geometry(_file: &File) -> io::Result<(u64, u32, u32)> {
    Err(unsupported())
}
pub fn read_only(_file: &File) -> io::Result<bool> {
    Ok(false)
}
pub fn reread(_file: &File) -> io::Result<()> {
    Err(unsupported())
}
#[cfg(unix)]
pub fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}
#[cfg(unix)]
pub fn pwrite(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::write_at(file, buf, offset)
}
#[cfg(windows)]
pub fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}
#[cfg(windows)]
pub fn pwrite(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_write(file, buf, offset)
}
pub fn list_drives() -> io::Result<Vec<DriveInfo>> {
    Err(unsupported())
}
pub fn data_ranges(_file: &File, size: u64) -> io::Result<Vec<(u64, u64)>> {
    Ok(vec![(0, size)])
}
