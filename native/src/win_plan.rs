//! What the Windows backend decides from the answers DeviceIoControl gave, apart from the calls
//! (windows.rs makes them and carries out the decisions), so that `cargo test` checks every
//! fallback on any machine, like partition_sync does for Linux's BLKPG plans.
//!
//! Each decision names what it does when an ioctl fails: Wine answers several of them with an
//! error (docs/ARCHITECTURE.md §3 lists which), and so may an unusual driver on real Windows.

use crate::win_structs::{self, DiskExtent};
use std::io;

/// What one DeviceIoControl call gave: the bytes the driver wrote, or the Win32 error.
pub type Answer = Result<Vec<u8>, u32>;

pub const ERROR_WRITE_PROTECT: u32 = 19;

/// A disk's or volume's size and sector sizes, and which fallbacks gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub size: u64,
    pub logical: u32,
    pub physical: u32,
    /// One line per value that did not come from its first-choice ioctl.
    pub fallbacks: Vec<&'static str>,
}

/// The sector size assumed when no ioctl tells one: every disk Windows boots from reports 512
/// or 4096, and 512 is what a driver that answers neither query (Wine) serves.
pub const DEFAULT_SECTOR: u32 = 512;

/// Whether an opened path is a device rather than an image file. A disk or volume answers the
/// length or the geometry query (Wine's \\.\PhysicalDriveN answers only the geometry). A handle
/// that answers neither is still a device when it has no file metadata: Wine's DOS devices mapped
/// onto a Unix block device answer no disk query (ERROR_NOT_SUPPORTED), and
/// GetFileInformationByHandle fails on them (ERROR_INVALID_PARAMETER). A regular file never is.
pub fn is_device(length_info: &Answer, geometry_ex: &Answer, is_file: Option<bool>) -> bool {
    length_info.is_ok() || geometry_ex.is_ok() || is_file.is_none()
}

/// Size: IOCTL_DISK_GET_LENGTH_INFO, the handle's own length (a volume's, for \\.\X:, where the
/// geometry describes the whole disk beneath it); else DiskSize of IOCTL_DISK_GET_DRIVE_GEOMETRY_EX
/// (never cylinders × heads × sectors); else `measure`, which finds the end by reading
/// (find_end). Logical and physical sector sizes: IOCTL_STORAGE_QUERY_PROPERTY
/// (StorageAccessAlignmentProperty); else the geometry's BytesPerSector for both; else 512.
pub fn geometry(
    length_info: &Answer,
    geometry_ex: &Answer,
    alignment: &Answer,
    measure: impl FnOnce(u64) -> io::Result<u64>,
) -> io::Result<Geometry> {
    let mut fallbacks = Vec::new();
    let from_geometry = geometry_ex.as_ref().ok().and_then(|b| win_structs::geometry_ex(b));
    let (logical, physical) = match (alignment.as_ref().ok().and_then(|b| win_structs::access_alignment(b)), from_geometry) {
        (Some(sizes), _) => sizes,
        (None, Some((_, bytes_per_sector))) => {
            fallbacks.push("sector sizes from the geometry's BytesPerSector (no StorageAccessAlignmentProperty)");
            (bytes_per_sector, bytes_per_sector)
        }
        (None, None) => {
            fallbacks.push("sector sizes assumed 512 (neither the alignment property nor the geometry answered)");
            (DEFAULT_SECTOR, DEFAULT_SECTOR)
        }
    };
    let length = length_info.as_ref().ok().and_then(|b| win_structs::length_info(b));
    let size = match (length, from_geometry) {
        (Some(size), _) => size,
        (None, Some((size, _))) => {
            fallbacks.push("size from IOCTL_DISK_GET_DRIVE_GEOMETRY_EX (IOCTL_DISK_GET_LENGTH_INFO did not answer)");
            size
        }
        (None, None) => {
            fallbacks.push("size found by reading (neither the length nor the geometry query answered)");
            measure(logical as u64)?
        }
    };
    Ok(Geometry {
        size,
        logical,
        physical,
        fallbacks,
    })
}

/// The largest device find_end believes: 64 PiB. A device that reads data past it never ends.
pub const MAX_MEASURED: u64 = 1 << 56;

/// The size of a device that no query measures, found by reading: `readable(n)` says whether
/// sector n gives any bytes (past the end, a read gives none). Doubling finds a sector past the
/// end, halving then finds the first one: about 2·log2(sectors) one-sector reads (80 for 1 TiB).
pub fn find_end(sector: u64, mut readable: impl FnMut(u64) -> io::Result<bool>) -> io::Result<u64> {
    if !readable(0)? {
        return Ok(0);
    }
    let (mut lo, mut hi) = (0u64, 1u64); // lo reads, hi is yet to be tried
    while readable(hi)? {
        lo = hi;
        hi *= 2;
        if hi * sector > MAX_MEASURED {
            return Err(io::Error::other("the device reads past 64 PiB: its end cannot be found by reading"));
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if readable(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi * sector)
}

/// IOCTL_DISK_IS_WRITABLE: ERROR_WRITE_PROTECT means write-protected media. Any other failure
/// (Wine answers ERROR_INVALID_FUNCTION) tells nothing, so the disk counts as writable and a
/// protected medium refuses the first write itself (ERROR_WRITE_PROTECT, reported as EROFS).
pub fn read_only(is_writable: &Answer) -> bool {
    matches!(is_writable, Err(ERROR_WRITE_PROTECT))
}

/// What a handle opened for writing is, for locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// \\.\X: or \\?\Volume{…}: it answers IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS; it locks itself.
    Volume,
    /// A disk with its IOCTL_STORAGE_GET_DEVICE_NUMBER (the N of \\.\PhysicalDriveN): the volumes
    /// with extents on disk N that a write reaches into are locked.
    Disk(u32),
    /// Neither answered (Wine's DOS devices mapped onto a Unix block device): no volume can be
    /// matched to it, so nothing is locked. On Windows every disk answers; were one not to, the
    /// disk class driver still refuses a write inside a mounted volume (ERROR_ACCESS_DENIED).
    Unknown,
}

pub fn handle_kind(volume_extents: &Answer, device_number: &Answer) -> HandleKind {
    if volume_extents.as_ref().is_ok_and(|b| !win_structs::volume_disk_extents(b).is_empty()) {
        return HandleKind::Volume;
    }
    match device_number.as_ref().ok().and_then(|b| win_structs::device_number(b)) {
        Some(n) => HandleKind::Disk(n),
        None => HandleKind::Unknown,
    }
}

/// A volume as FindFirstVolumeW lists it, with its extents and what its first sector says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// \\?\Volume{GUID}, without the trailing backslash (CreateFileW opens the volume so).
    pub name: String,
    /// Its drive letters and folder mount points (C:\, D:\mnt\x\), for messages.
    pub mount_points: Vec<String>,
    pub extents: Vec<DiskExtent>,
}

/// The volumes to lock before writing [start, start + len) of disk `disk`, in the order to lock
/// them: by the offset of their first extent that the write meets, so that the lowest volume is
/// taken first and two writers always lock in the same order. Volumes already locked (`held`) are
/// left out. A volume on several disks (spanned, striped) is locked when the write meets any of its
/// extents on this disk.
pub fn volumes_to_lock<'a>(disk: u32, volumes: &'a [Volume], start: u64, len: u64, held: &[String]) -> Vec<&'a Volume> {
    let mut touched: Vec<(u64, &Volume)> = volumes
        .iter()
        .filter(|v| !held.contains(&v.name))
        .filter_map(|v| {
            v.extents
                .iter()
                .filter(|e| e.disk == disk && win_structs::overlaps(e, start, len))
                .map(|e| e.start)
                .min()
                .map(|at| (at, v))
        })
        .collect();
    touched.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    touched.into_iter().map(|(_, v)| v).collect()
}

/// What is done to the volumes a write reaches into, in order. Every lock is taken before any
/// volume is dismounted: a refused lock then leaves every file system as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// FSCTL_LOCK_VOLUME on a handle of the volume opened for reading and writing: it fails when
    /// files are open on it (the system volume, a page file, …).
    Lock(String),
    /// FSCTL_DISMOUNT_VOLUME under the lock: the file system drops what it cached of the bytes
    /// about to change under it, and mounts afresh when the handle closes after the write.
    Dismount(String),
}

pub fn lock_steps(volumes: &[&Volume]) -> Vec<Step> {
    let locks = volumes.iter().map(|v| Step::Lock(v.name.clone()));
    let dismounts = volumes.iter().map(|v| Step::Dismount(v.name.clone()));
    locks.chain(dismounts).collect()
}

/// BitLocker's volume header puts "-FVE-FS-" where a boot sector has its OEM id (byte 3); the
/// sectors of such a volume hold ciphertext, so no raw write into them is ever a repair.
pub fn is_bitlocker(first_sector: &[u8]) -> bool {
    first_sector.get(3..11) == Some(b"-FVE-FS-".as_slice())
}

/// The volume named the way a person finds it: its mount points, else its GUID path.
pub fn volume_label(volume: &Volume) -> String {
    if volume.mount_points.is_empty() {
        volume.name.clone()
    } else {
        format!("{} ({})", volume.mount_points.join(", "), volume.name)
    }
}

/// Why a write was refused because a volume could not be locked (reported as EBUSY).
pub fn lock_refused(volume: &Volume, os_error: &str) -> String {
    // mountvol dismounts by mount point; a volume without one (an ESP) has only its programs.
    let dismount = match volume.mount_points.first() {
        Some(m) => format!(", or dismount it (mountvol {} /p)", m.trim_end_matches('\\')),
        None => String::new(),
    };
    format!(
        "volume {} lies in the range being written and cannot be locked ({os_error}): close the programs using it{dismount} first",
        volume_label(volume)
    )
}

/// Why a write into a BitLocker volume was refused (reported as EACCES).
pub fn bitlocker_refused(volume: &Volume) -> String {
    format!(
        "volume {} is encrypted with BitLocker and lies in the range being written: its sectors hold ciphertext, so gptdoctor does not write into them",
        volume_label(volume)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry_bytes(bytes_per_sector: u32, size: i64) -> Vec<u8> {
        let mut g = vec![0u8; 40];
        g[20..24].copy_from_slice(&bytes_per_sector.to_le_bytes());
        g[24..32].copy_from_slice(&size.to_le_bytes());
        g
    }
    fn alignment_bytes(logical: u32, physical: u32) -> Vec<u8> {
        let mut a = vec![0u8; 28];
        a[16..20].copy_from_slice(&logical.to_le_bytes());
        a[20..24].copy_from_slice(&physical.to_le_bytes());
        a
    }
    fn length_bytes(size: i64) -> Vec<u8> {
        size.to_le_bytes().to_vec()
    }
    const ERROR_INVALID_FUNCTION: u32 = 1;
    const NO: Answer = Err(ERROR_INVALID_FUNCTION);

    fn never(_: u64) -> io::Result<u64> {
        panic!("the size was known without reading")
    }

    #[test]
    fn tells_devices_from_image_files() {
        assert!(is_device(&Ok(length_bytes(1 << 30)), &NO, None));
        assert!(is_device(&NO, &Ok(geometry_bytes(512, 1 << 30)), None), "Wine's PhysicalDriveN");
        assert!(is_device(&NO, &NO, None), "Wine's DOS device on a Unix block device");
        assert!(!is_device(&NO, &NO, Some(true)), "an image file, even under \\\\?\\");
    }

    #[test]
    fn a_disk_that_answers_everything_takes_its_length_and_alignment() {
        let g = geometry(&Ok(length_bytes(1 << 40)), &Ok(geometry_bytes(512, 1 << 40)), &Ok(alignment_bytes(512, 4096)), never).unwrap();
        assert_eq!((g.size, g.logical, g.physical), (1 << 40, 512, 4096));
        assert!(g.fallbacks.is_empty());
    }

    #[test]
    fn a_volume_is_its_own_length_not_the_disk_beneath() {
        let g = geometry(&Ok(length_bytes(100 << 20)), &Ok(geometry_bytes(4096, 1 << 40)), &NO, never).unwrap();
        assert_eq!((g.size, g.logical, g.physical), (100 << 20, 4096, 4096));
        assert_eq!(g.fallbacks, vec!["sector sizes from the geometry's BytesPerSector (no StorageAccessAlignmentProperty)"]);
    }

    #[test]
    fn without_the_length_the_geometry_gives_the_size() {
        // Wine's \\.\PhysicalDriveN: the geometry and nothing else.
        let g = geometry(&NO, &Ok(geometry_bytes(512, 8 << 20)), &NO, never).unwrap();
        assert_eq!((g.size, g.logical, g.physical), (8 << 20, 512, 512));
        assert_eq!(g.fallbacks.len(), 2);
    }

    #[test]
    fn with_only_the_length_the_sectors_are_512() {
        let g = geometry(&Ok(length_bytes(8 << 20)), &NO, &NO, never).unwrap();
        assert_eq!((g.size, g.logical, g.physical), (8 << 20, 512, 512));
        assert_eq!(g.fallbacks, vec!["sector sizes assumed 512 (neither the alignment property nor the geometry answered)"]);
    }

    #[test]
    fn without_any_size_query_the_end_is_found_by_reading() {
        // Wine's DOS device: nothing answers; the measure gets the sector size assumed.
        let g = geometry(&Err(50), &Err(50), &Err(50), |sector| Ok(sector * 1000)).unwrap();
        assert_eq!((g.size, g.logical, g.physical), (512_000, 512, 512));
        assert_eq!(g.fallbacks.len(), 2);
        // A length that does not decode counts as none; the measure's error is the answer.
        let err = geometry(&Ok(vec![1, 2]), &NO, &NO, |_| Err(io::Error::other("unreadable"))).unwrap_err();
        assert_eq!(err.to_string(), "unreadable");
    }

    #[test]
    fn finds_the_end_of_a_device_by_reading_few_sectors() {
        for sectors in [0u64, 1, 2, 3, 1000, 1 << 20, (1 << 31) + 7] {
            let mut reads = 0;
            let size = find_end(512, |n| {
                reads += 1;
                Ok(n < sectors)
            })
            .unwrap();
            assert_eq!(size, sectors * 512);
            assert!(reads <= 2 * 64, "{reads} reads for {sectors} sectors");
        }
        assert!(find_end(512, |_| Ok(true)).is_err(), "a device without an end");
        assert!(find_end(512, |n| if n < 5 { Ok(true) } else { Err(io::Error::other("EIO")) }).is_err());
    }

    #[test]
    fn only_write_protect_means_read_only() {
        assert!(!read_only(&Ok(vec![])));
        assert!(read_only(&Err(ERROR_WRITE_PROTECT)));
        assert!(!read_only(&NO), "an unanswered query (Wine) leaves the disk writable");
        assert!(!read_only(&Err(5)));
    }

    fn extents_bytes(extents: &[(u32, i64, i64)]) -> Vec<u8> {
        let mut v = vec![0u8; 8 + 24 * extents.len()];
        v[0..4].copy_from_slice(&(extents.len() as u32).to_le_bytes());
        for (i, (disk, start, length)) in extents.iter().enumerate() {
            let at = 8 + i * 24;
            v[at..at + 4].copy_from_slice(&disk.to_le_bytes());
            v[at + 8..at + 16].copy_from_slice(&start.to_le_bytes());
            v[at + 16..at + 24].copy_from_slice(&length.to_le_bytes());
        }
        v
    }

    #[test]
    fn tells_volumes_disks_and_handles_it_cannot_place() {
        let mut number = vec![0u8; 12];
        number[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(handle_kind(&Ok(extents_bytes(&[(0, 1 << 20, 1 << 30)])), &Ok(number.clone())), HandleKind::Volume);
        assert_eq!(handle_kind(&NO, &Ok(number.clone())), HandleKind::Disk(2));
        assert_eq!(handle_kind(&Ok(extents_bytes(&[])), &Ok(number)), HandleKind::Disk(2), "no extents: not a volume");
        assert_eq!(handle_kind(&NO, &NO), HandleKind::Unknown);
    }

    const MIB: u64 = 1 << 20;
    fn volume(name: &str, mount: &[&str], extents: &[(u32, u64, u64)]) -> Volume {
        Volume {
            name: name.into(),
            mount_points: mount.iter().map(|m| m.to_string()).collect(),
            extents: extents
                .iter()
                .map(|&(disk, start, length)| DiskExtent {
                    disk,
                    start: start * MIB,
                    length: length * MIB,
                })
                .collect(),
        }
    }

    fn names(vs: &[&Volume]) -> Vec<String> {
        vs.iter().map(|v| v.name.clone()).collect()
    }

    #[test]
    fn locks_only_the_volumes_the_write_meets_on_this_disk_lowest_first() {
        let volumes = [
            volume(r"\\?\Volume{c}", &[r"C:\"], &[(0, 300, 1000)]),
            volume(r"\\?\Volume{esp}", &[], &[(0, 1, 100)]),
            volume(r"\\?\Volume{d}", &[r"D:\"], &[(1, 1, 100)]),
            volume(r"\\?\Volume{span}", &[r"E:\"], &[(1, 200, 50), (0, 1400, 10)]),
        ];
        // The primary GPT lies before every partition: nothing to lock.
        assert!(volumes_to_lock(0, &volumes, 0, 34 * 512, &[]).is_empty());
        // A write from 50 MiB to 1405 MiB of disk 0 meets the ESP, C: and the spanned E:.
        let all = volumes_to_lock(0, &volumes, 50 * MIB, 1355 * MIB, &[]);
        assert_eq!(names(&all), vec![r"\\?\Volume{esp}", r"\\?\Volume{c}", r"\\?\Volume{span}"]);
        // Disk 1's D: is not on disk 0.
        assert!(!names(&all).contains(&r"\\?\Volume{d}".to_string()));
        // A volume this device already holds locked is not locked twice.
        let again = volumes_to_lock(0, &volumes, 50 * MIB, 1355 * MIB, &[r"\\?\Volume{esp}".to_string()]);
        assert_eq!(names(&again), vec![r"\\?\Volume{c}", r"\\?\Volume{span}"]);
    }

    #[test]
    fn every_lock_comes_before_any_dismount() {
        let volumes = [volume("A", &[], &[(0, 1, 1)]), volume("B", &[], &[(0, 2, 1)])];
        let order: Vec<&Volume> = volumes.iter().collect();
        assert_eq!(
            lock_steps(&order),
            vec![Step::Lock("A".into()), Step::Lock("B".into()), Step::Dismount("A".into()), Step::Dismount("B".into())]
        );
    }

    #[test]
    fn recognises_a_bitlocker_volume_header() {
        let mut sector = vec![0u8; 512];
        sector[0..3].copy_from_slice(&[0xeb, 0x58, 0x90]);
        sector[3..11].copy_from_slice(b"-FVE-FS-");
        assert!(is_bitlocker(&sector));
        sector[3..11].copy_from_slice(b"NTFS    ");
        assert!(!is_bitlocker(&sector));
        assert!(!is_bitlocker(&sector[..8]));
    }

    #[test]
    fn refusals_name_the_volume_as_a_person_finds_it() {
        let c = volume(r"\\?\Volume{c}", &[r"C:\"], &[]);
        assert_eq!(
            lock_refused(&c, "ERROR_ACCESS_DENIED"),
            r"volume C:\ (\\?\Volume{c}) lies in the range being written and cannot be locked (ERROR_ACCESS_DENIED): close the programs using it, or dismount it (mountvol C: /p) first"
        );
        let hidden = volume(r"\\?\Volume{esp}", &[], &[]);
        assert_eq!(
            lock_refused(&hidden, "ERROR_ACCESS_DENIED"),
            r"volume \\?\Volume{esp} lies in the range being written and cannot be locked (ERROR_ACCESS_DENIED): close the programs using it first"
        );
        assert!(bitlocker_refused(&c).starts_with(r"volume C:\ (\\?\Volume{c}) is encrypted with BitLocker"));
    }
}
