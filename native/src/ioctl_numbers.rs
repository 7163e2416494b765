//! ioctl request numbers, computed the way the C headers' macros do, so each one can be checked
//! against the value its header documents (see the tests) instead of being copied as magic.

/// Linux `_IOR(type, nr, size)` (asm-generic/ioctl.h): direction read = 2 in bits 30–31, size in
/// bits 16–29, type in 8–15, number in 0–7.
pub const fn linux_ior(kind: u8, nr: u8, size: usize) -> u64 {
    (2 << 30) | ((size as u64 & 0x3fff) << 16) | ((kind as u64) << 8) | nr as u64
}

/// Linux `_IO(type, nr)`: no direction, no size.
pub const fn linux_io(kind: u8, nr: u8) -> u64 {
    ((kind as u64) << 8) | nr as u64
}

/// BSD/XNU `_IOR(group, num, type)` (sys/ioccom.h): IOC_OUT = 0x40000000, the size masked with
/// IOCPARM_MASK (0x1fff) in bits 16–28.
pub const fn bsd_ior(group: u8, num: u8, size: usize) -> u64 {
    0x4000_0000 | ((size as u64 & 0x1fff) << 16) | ((group as u64) << 8) | num as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_the_documented_values() {
        // linux/fs.h, on 64-bit targets
        assert_eq!(linux_ior(0x12, 114, 8), 0x8008_1272); // BLKGETSIZE64
        assert_eq!(linux_io(0x12, 104), 0x1268); // BLKSSZGET
        assert_eq!(linux_io(0x12, 123), 0x127b); // BLKPBSZGET
        assert_eq!(linux_io(0x12, 95), 0x125f); // BLKRRPART
        assert_eq!(linux_io(0x12, 94), 0x125e); // BLKROGET
                                                // xnu bsd/sys/disk.h
        assert_eq!(bsd_ior(b'd', 24, 4), 0x4004_6418); // DKIOCGETBLOCKSIZE
        assert_eq!(bsd_ior(b'd', 25, 8), 0x4008_6419); // DKIOCGETBLOCKCOUNT
        assert_eq!(bsd_ior(b'd', 77, 4), 0x4004_644d); // DKIOCGETPHYSICALBLOCKSIZE
        assert_eq!(bsd_ior(b'd', 29, 4), 0x4004_641d); // DKIOCISWRITABLE
    }
}
