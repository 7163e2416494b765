//! Memory maps of image files that a file shrinking under them cannot crash (Linux).
//!
//! A page of a shared file mapping that lies wholly past the file's end (the file was truncated
//! after it was mapped), or whose read from the disk fails, raises SIGBUS, and SIGBUS's default
//! ends the process: a hunt over a file another program is truncating would die without a word.
//! While a range of memory is guarded, this module's handler maps zeros over the range from the
//! faulting page on, marks the range, and lets the instruction run again. Whoever guarded it sees
//! the mark afterwards and reads those bytes again with pread, which hands back what the file
//! now holds, or the error (mapped.rs).
//!
//! A SIGBUS anywhere else goes where it went before this handler was installed: to the handler
//! that was there, or to the default, which ends the process as it would have.
//!
//! `owner` decides whether a fault is ours (pure, tested as sentences); the rest is the system
//! calls. The ranges live in a fixed table of atomics, because a signal handler may neither lock
//! nor allocate.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Ranges guarded at once: the hunt keeps four searches in flight (libuv's pool).
const SLOTS: usize = 16;

struct Slot {
    busy: AtomicBool,
    /// [start, end) of the guarded memory; (0, 0) while the slot is free or being filled.
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // a template for the table below, copied once per slot
const FREE: Slot = Slot {
    busy: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};
static GUARDED: [Slot; SLOTS] = [FREE; SLOTS];
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
/// What SIGBUS did before this handler: the fate of every fault that is not ours.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Which range, of `ranges` ([start, end) each), a SIGBUS with this `si_code` at `address` is
/// ours to answer for. Only a fault counts: a SIGBUS sent by kill() or sigqueue() has a code of
/// zero or less, and its "address" is not one. A free slot, (0, 0), holds no address.
pub fn owner(code: i32, address: usize, ranges: impl Iterator<Item = (usize, usize)>) -> Option<usize> {
    if code <= 0 {
        return None;
    }
    ranges.enumerate().find(|(_, (start, end))| *start <= address && address < *end).map(|(i, _)| i)
}

/// A guarded range of memory: faults in it are answered with zeros while this lives.
pub struct Guard {
    slot: usize,
}

impl Guard {
    /// Guards [start, start + length), or None when the handler could not be installed or every
    /// slot is taken (the caller then reads instead of mapping).
    pub fn new(start: usize, length: usize) -> Option<Guard> {
        if !installed() || length == 0 {
            return None;
        }
        let slot = GUARDED
            .iter()
            .position(|s| s.busy.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
        let s = &GUARDED[slot];
        s.faulted.store(false, Ordering::Relaxed);
        // The start first: until the end is set too, the range is empty and owns no address.
        s.start.store(start, Ordering::Release);
        s.end.store(start + length, Ordering::Release);
        Some(Guard { slot })
    }

    /// Whether a page of the range faulted and now reads as zeros.
    pub fn faulted(&self) -> bool {
        GUARDED[self.slot].faulted.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let s = &GUARDED[self.slot];
        s.end.store(0, Ordering::Release);
        s.start.store(0, Ordering::Release);
        s.busy.store(false, Ordering::Release);
    }
}

fn ranges() -> impl Iterator<Item = (usize, usize)> {
    GUARDED.iter().map(|s| (s.start.load(Ordering::Acquire), s.end.load(Ordering::Acquire)))
}

fn installed() -> bool {
    *INSTALLED.get_or_init(|| {
        // SAFETY: sysconf reads a constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page <= 0 {
            return false;
        }
        PAGE_SIZE.store(page as usize, Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid one (SIG_DFL, no flags, an empty mask).
        let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: with a null new action, sigaction only reads the current one into `previous`.
        if unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) } != 0 {
            return false;
        }
        let _ = PREVIOUS.set(previous);
        // SAFETY: a zeroed sigaction is a valid one (no flags, an empty mask) before it is filled.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: installs a handler that only touches atomics and makes async-signal-safe calls.
        unsafe { libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0 }
    })
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel hands an SA_SIGINFO handler a valid siginfo_t.
    let (code, address) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    if let Some(slot) = owner(code, address, ranges()) {
        let page_size = PAGE_SIZE.load(Ordering::Relaxed);
        // The page may start before the range (a mapping starts on a page, the range where its
        // owner's bytes do); it is still the owner's mapping.
        let page = address & !(page_size - 1);
        // Zeros from this page to the range's end in one call: past a file's new end every page
        // would fault in turn, a signal each.
        let end = GUARDED[slot].end.load(Ordering::Acquire);
        // SAFETY: replaces pages inside a mapping that its guard's owner made and holds until
        // after the guard is dropped; the zeros are read-only, as the file's pages were.
        let zeros = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                end.saturating_sub(page).max(page_size),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            GUARDED[slot].faulted.store(true, Ordering::Release);
            return; // the read runs again, and finds zeros
        }
    }
    pass_on(signal, info, context);
}

/// A SIGBUS that is not ours: to the handler that was there before, or, under the default, the
/// default is put back and the fault, repeated when this returns, ends the process.
fn pass_on(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    match PREVIOUS.get() {
        Some(previous) if previous.sa_sigaction != libc::SIG_DFL && previous.sa_sigaction != libc::SIG_IGN => {
            if previous.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: with SA_SIGINFO, sa_sigaction holds a three-argument handler.
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = unsafe { std::mem::transmute(previous.sa_sigaction) };
                handler(signal, info, context);
            } else {
                // SAFETY: without SA_SIGINFO, sa_sigaction holds a one-argument handler.
                let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(previous.sa_sigaction) };
                handler(signal);
            }
        }
        _ => {
            // SAFETY: a zeroed sigaction is SIG_DFL with no flags.
            let default: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: puts back the default disposition; sigaction is async-signal-safe.
            unsafe { libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUS_ADRERR: i32 = 2;

    #[test]
    fn a_fault_inside_a_guarded_range_is_that_ranges() {
        let ranges = [(0, 0), (4096, 8192), (65536, 131072)];
        assert_eq!(owner(BUS_ADRERR, 4096, ranges.into_iter()), Some(1));
        assert_eq!(owner(BUS_ADRERR, 131071, ranges.into_iter()), Some(2));
    }

    #[test]
    fn the_first_byte_past_a_range_is_not_its() {
        assert_eq!(owner(BUS_ADRERR, 8192, [(4096, 8192)].into_iter()), None);
    }

    #[test]
    fn a_free_slot_owns_nothing_not_even_address_zero() {
        assert_eq!(owner(BUS_ADRERR, 0, [(0, 0)].into_iter()), None);
    }

    #[test]
    fn a_sigbus_sent_by_another_process_is_never_ours() {
        // kill() gives SI_USER (0), sigqueue() SI_QUEUE (-1): si_addr then holds no address.
        assert_eq!(owner(0, 4096, [(4096, 8192)].into_iter()), None);
        assert_eq!(owner(-1, 4096, [(4096, 8192)].into_iter()), None);
    }

    #[test]
    fn a_guard_holds_its_range_until_it_is_dropped() {
        let guard = Guard::new(1 << 40, 4096).expect("a free slot");
        assert!(ranges().any(|r| r == (1 << 40, (1 << 40) + 4096)));
        assert!(!guard.faulted());
        drop(guard);
        assert!(!ranges().any(|r| r == (1 << 40, (1 << 40) + 4096)));
    }
}
