//! What Linux and macOS share: positional I/O, flock for writers, SEEK_DATA/SEEK_HOLE, and errno
//! names.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;

/// A non-blocking exclusive flock on the whole-disk node: systemd's documented protocol for
/// tools that repartition (udev skips the device while it is held).
pub fn lock(file: &File) -> io::Result<()> {
    // SAFETY: flock takes only the descriptor, open for the life of `file`, and flags.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
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

/// SEEK_DATA/SEEK_HOLE walk; a file system without support answers with the whole file.
pub fn data_ranges(file: &File, size: u64) -> io::Result<Vec<(u64, u64)>> {
    let fd = file.as_raw_fd();
    let mut ranges = Vec::new();
    let mut at: i64 = 0;
    while (at as u64) < size {
        // SAFETY: lseek on a descriptor this function holds open; it touches no memory of ours.
        let start = unsafe { libc::lseek(fd, at as libc::off_t, libc::SEEK_DATA) } as i64;
        if start < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `at`
            }
            return Ok(vec![(0, size)]);
        }
        // SAFETY: as above.
        let end = unsafe { libc::lseek(fd, start as libc::off_t, libc::SEEK_HOLE) } as i64;
        let end = if end < 0 { size as i64 } else { end };
        ranges.push((start as u64, end as u64));
        at = end;
    }
    Ok(ranges)
}

/// The POSIX name of an errno, for the codes gptdoctor gives advice on.
pub fn error_code(err: &io::Error) -> Option<&'static str> {
    Some(match err.raw_os_error()? {
        libc::ENOENT => "ENOENT",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EBUSY => "EBUSY",
        libc::EROFS => "EROFS",
        libc::EINVAL => "EINVAL",
        libc::ENXIO => "ENXIO",
        libc::ENOTTY => "ENOTTY",
        libc::EIO => "EIO",
        libc::EWOULDBLOCK => "EBUSY", // flock held by another process
        _ => return None,
    })
}
