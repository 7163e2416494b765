//! Decoders for the Windows storage structures that DeviceIoControl fills in, as plain byte
//! parsers (layouts from winioctl.h / ntddstor.h, 64-bit alignment). They sit apart from the
//! Windows backend so that `cargo test` checks them on any machine.

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// DISK_GEOMETRY_EX: DISK_GEOMETRY (Cylinders i64, MediaType, TracksPerCylinder,
/// SectorsPerTrack, BytesPerSector) then DiskSize i64. Returns (disk size, logical sector size).
pub fn geometry_ex(b: &[u8]) -> Option<(u64, u32)> {
    let bytes_per_sector = u32_at(b, 20)?;
    let disk_size = i64_at(b, 24)?;
    (disk_size >= 0 && bytes_per_sector > 0).then_some((disk_size as u64, bytes_per_sector))
}

/// GET_LENGTH_INFORMATION: Length i64, the bytes of the disk, volume or partition.
pub fn length_info(b: &[u8]) -> Option<u64> {
    let length = i64_at(b, 0)?;
    (length >= 0).then_some(length as u64)
}

/// STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR: Version, Size, BytesPerCacheLine,
/// BytesOffsetForCacheAlignment, BytesPerLogicalSector, BytesPerPhysicalSector, …
/// Returns (logical, physical) sector sizes.
pub fn access_alignment(b: &[u8]) -> Option<(u32, u32)> {
    let logical = u32_at(b, 16)?;
    let physical = u32_at(b, 20)?;
    (logical > 0 && physical > 0).then_some((logical, physical))
}

/// What STORAGE_DEVICE_DESCRIPTOR tells about a drive.
#[derive(Debug, PartialEq, Eq)]
pub struct DeviceDescriptor {
    pub model: String,
    pub removable: bool,
    pub bus_type: u32,
}

/// Bus types that mean "you can unplug it" even when RemovableMedia is false (USB disks say
/// fixed): BusTypeUsb 7, BusTypeSd 12, BusTypeMmc 13.
const REMOVABLE_BUSES: [u32; 3] = [7, 12, 13];

/// STORAGE_DEVICE_DESCRIPTOR: Version, Size, DeviceType, DeviceTypeModifier, RemovableMedia,
/// CommandQueueing, then offsets (from the start of the buffer) of NUL-terminated ASCII vendor
/// and product ids, and BusType at 28. An offset of 0 means the field is absent.
pub fn device_descriptor(b: &[u8]) -> Option<DeviceDescriptor> {
    let text = |offset_at: usize| -> String {
        let offset = u32_at(b, offset_at).unwrap_or(0) as usize;
        if offset == 0 || offset >= b.len() {
            return String::new();
        }
        let bytes = &b[offset..];
        let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).trim().to_string()
    };
    let removable_media = *b.get(10)? != 0;
    let bus_type = u32_at(b, 28)?;
    let model = [text(12), text(16)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    Some(DeviceDescriptor {
        model,
        removable: removable_media || REMOVABLE_BUSES.contains(&bus_type),
        bus_type,
    })
}

/// STORAGE_DEVICE_NUMBER: DeviceType, DeviceNumber, PartitionNumber. Returns DeviceNumber, the N
/// of \\.\PhysicalDriveN.
pub fn device_number(b: &[u8]) -> Option<u32> {
    u32_at(b, 4)
}

/// One piece of a volume on a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskExtent {
    pub disk: u32,
    pub start: u64,
    pub length: u64,
}

/// VOLUME_DISK_EXTENTS: NumberOfDiskExtents (u32, padded to 8), then DISK_EXTENT records of
/// 24 bytes (DiskNumber u32 + padding, StartingOffset i64, ExtentLength i64).
pub fn volume_disk_extents(b: &[u8]) -> Vec<DiskExtent> {
    let count = u32_at(b, 0).unwrap_or(0) as usize;
    (0..count)
        .map_while(|i| {
            let at = 8 + i * 24;
            Some(DiskExtent {
                disk: u32_at(b, at)?,
                start: i64_at(b, at + 8)?.max(0) as u64,
                length: i64_at(b, at + 16)?.max(0) as u64,
            })
        })
        .collect()
}

/// FILE_ALLOCATED_RANGE_BUFFER records (FileOffset i64, Length i64), as [start, end) pairs.
pub fn allocated_ranges(b: &[u8]) -> Vec<(u64, u64)> {
    b.chunks_exact(16)
        .filter_map(|r| {
            let start = i64_at(r, 0)?.max(0) as u64;
            Some((start, start + i64_at(r, 8)?.max(0) as u64))
        })
        .collect()
}

/// A REG_MULTI_SZ-style list (what GetVolumePathNamesForVolumeNameW fills in): NUL-terminated
/// UTF-16 strings, the list ended by an empty one.
pub fn multi_sz(b: &[u16]) -> Vec<String> {
    b.split(|&c| c == 0).take_while(|s| !s.is_empty()).map(String::from_utf16_lossy).collect()
}

/// Whether [start, start + len) meets the extent.
pub fn overlaps(extent: &DiskExtent, start: u64, len: u64) -> bool {
    start < extent.start + extent.length && extent.start < start + len
}

/// The stable code gptdoctor reports for a Win32 error (winerror.h), so the CLI gives the same
/// advice on every platform. The Win32 name is kept in the message by the caller.
pub fn win32_error_code(code: u32) -> Option<(&'static str, &'static str)> {
    Some(match code {
        2 => ("ENOENT", "ERROR_FILE_NOT_FOUND"),
        3 => ("ENOENT", "ERROR_PATH_NOT_FOUND"),
        5 => ("EACCES", "ERROR_ACCESS_DENIED"),
        19 => ("EROFS", "ERROR_WRITE_PROTECT"),
        21 => ("ENXIO", "ERROR_NOT_READY"),
        32 => ("EBUSY", "ERROR_SHARING_VIOLATION"),
        33 => ("EBUSY", "ERROR_LOCK_VIOLATION"),
        1 => ("ENOTTY", "ERROR_INVALID_FUNCTION"),
        50 => ("ENOTSUP", "ERROR_NOT_SUPPORTED"),
        87 => ("EINVAL", "ERROR_INVALID_PARAMETER"),
        1117 => ("EIO", "ERROR_IO_DEVICE"),
        23 => ("EIO", "ERROR_CRC"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put64(b: &mut [u8], at: usize, v: i64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn decodes_geometry_and_alignment() {
        let mut g = [0u8; 40];
        put32(&mut g, 20, 4096);
        put64(&mut g, 24, 1 << 40);
        assert_eq!(geometry_ex(&g), Some((1 << 40, 4096)));
        assert_eq!(geometry_ex(&g[..20]), None);

        let mut a = [0u8; 28];
        put32(&mut a, 16, 512);
        put32(&mut a, 20, 4096);
        assert_eq!(access_alignment(&a), Some((512, 4096)));
    }

    #[test]
    fn decodes_a_usb_disk_descriptor() {
        let mut d = vec![0u8; 64];
        put32(&mut d, 12, 40); // vendor
        put32(&mut d, 16, 48); // product
        put32(&mut d, 28, 7); // BusTypeUsb
        d[40..46].copy_from_slice(b"ACME  ");
        d[48..56].copy_from_slice(b"Stick 3\0");
        let desc = device_descriptor(&d).unwrap();
        assert_eq!(
            desc,
            DeviceDescriptor {
                model: "ACME Stick 3".into(),
                removable: true,
                bus_type: 7
            }
        );
        put32(&mut d, 28, 17); // BusTypeNvme, fixed
        assert!(!device_descriptor(&d).unwrap().removable);
        put32(&mut d, 12, 4000); // offset past the buffer: absent
        assert_eq!(device_descriptor(&d).unwrap().model, "Stick 3");
    }

    #[test]
    fn decodes_volume_extents_and_overlaps() {
        let mut v = vec![0u8; 8 + 2 * 24];
        put32(&mut v, 0, 2);
        put32(&mut v, 8, 1);
        put64(&mut v, 16, 1 << 20);
        put64(&mut v, 24, 100 << 20);
        put32(&mut v, 32, 3);
        put64(&mut v, 40, 0);
        put64(&mut v, 48, 4096);
        let extents = volume_disk_extents(&v);
        assert_eq!(
            extents,
            vec![
                DiskExtent {
                    disk: 1,
                    start: 1 << 20,
                    length: 100 << 20
                },
                DiskExtent {
                    disk: 3,
                    start: 0,
                    length: 4096
                }
            ]
        );
        assert!(!overlaps(&extents[0], 0, 34 * 512), "the primary GPT lies before the first partition");
        assert!(overlaps(&extents[0], (1 << 20) - 512, 1024));
        assert!(!overlaps(&extents[0], 101 << 20, 512));
        // a count larger than the buffer stops at the buffer
        put32(&mut v, 0, 1000);
        assert_eq!(volume_disk_extents(&v).len(), 2);
    }

    #[test]
    fn decodes_allocated_ranges_and_error_codes() {
        let mut r = vec![0u8; 32];
        put64(&mut r, 0, 0);
        put64(&mut r, 8, 65536);
        put64(&mut r, 16, 1 << 30);
        put64(&mut r, 24, 4096);
        assert_eq!(allocated_ranges(&r), vec![(0, 65536), (1 << 30, (1 << 30) + 4096)]);
        assert_eq!(win32_error_code(5), Some(("EACCES", "ERROR_ACCESS_DENIED")));
        assert_eq!(win32_error_code(32).unwrap().0, "EBUSY");
        assert_eq!(win32_error_code(9999), None);
    }

    #[test]
    fn splits_a_list_of_mount_points() {
        let list: Vec<u16> = "C:\\\0D:\\mnt\\\0\0garbage".encode_utf16().collect();
        assert_eq!(multi_sz(&list), vec!["C:\\".to_string(), "D:\\mnt\\".to_string()]);
        assert!(multi_sz(&[0, 0]).is_empty());
        assert!(multi_sz(&[]).is_empty());
    }
}
