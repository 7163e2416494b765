//! Telling the kernel about a new partition table one partition at a time (Linux BLKPG), for when
//! it cannot re-read the whole table because a partition is open. This module only plans the
//! steps; linux.rs carries them out. Pure, so `cargo test` checks the plans on any machine.

/// A partition by number (its GPT slot, as Linux numbers them) and byte extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub number: u32,
    pub start: u64,
    pub length: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Remove(Extent),
    /// Only growth in place: a partition that shrinks or moves is removed and added again, so
    /// that the kernel refuses (EBUSY) rather than cut a partition from under whoever has it open.
    Grow(Extent),
    Add(Extent),
}

/// The steps that turn the kernel's partitions into the table's: removals first (so that no
/// addition overlaps a stale partition), then growth, then additions, each in partition order.
pub fn plan(kernel: &[Extent], table: &[Extent]) -> Vec<Step> {
    let mut removals = Vec::new();
    let mut growth = Vec::new();
    let mut additions = Vec::new();
    for old in kernel {
        match table.iter().find(|new| new.number == old.number) {
            None => removals.push(Step::Remove(*old)),
            Some(new) if new == old => {}
            Some(new) if new.start == old.start && new.length > old.length => growth.push(Step::Grow(*new)),
            Some(new) => {
                removals.push(Step::Remove(*old));
                additions.push(Step::Add(*new));
            }
        }
    }
    for new in table {
        if !kernel.iter().any(|old| old.number == new.number) {
            additions.push(Step::Add(*new));
        }
    }
    let number = |s: &Step| match s {
        Step::Remove(e) | Step::Grow(e) | Step::Add(e) => e.number,
    };
    for steps in [&mut removals, &mut growth, &mut additions] {
        steps.sort_by_key(number);
    }
    removals.into_iter().chain(growth).chain(additions).collect()
}

/// What happened when the kernel was told partition by partition.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// "partition 3 added", "partition 2 grown", …
    pub done: Vec<String>,
    /// "partition 1: in use, the kernel keeps its old extent", …
    pub failed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    fn e(number: u32, start_mib: u64, length_mib: u64) -> Extent {
        Extent {
            number,
            start: start_mib * MIB,
            length: length_mib * MIB,
        }
    }

    #[test]
    fn nothing_to_do_when_the_kernel_already_agrees() {
        let table = [e(1, 1, 8), e(2, 9, 8)];
        assert_eq!(plan(&table, &table), vec![]);
    }

    #[test]
    fn removes_before_it_grows_and_adds() {
        let kernel = [e(1, 1, 8), e(2, 9, 8), e(4, 40, 8)];
        let table = [e(1, 1, 8), e(2, 9, 16), e(3, 25, 8)];
        assert_eq!(plan(&kernel, &table), vec![Step::Remove(e(4, 40, 8)), Step::Grow(e(2, 9, 16)), Step::Add(e(3, 25, 8))]);
    }

    #[test]
    fn a_moved_or_shrunk_partition_is_removed_and_added_again() {
        let kernel = [e(1, 1, 8), e(2, 9, 8)];
        let table = [e(1, 2, 8), e(2, 9, 4)];
        assert_eq!(
            plan(&kernel, &table),
            vec![Step::Remove(e(1, 1, 8)), Step::Remove(e(2, 9, 8)), Step::Add(e(1, 2, 8)), Step::Add(e(2, 9, 4))]
        );
    }

    #[test]
    fn an_empty_table_removes_everything() {
        let kernel = [e(2, 9, 8), e(1, 1, 8)];
        assert_eq!(plan(&kernel, &[]), vec![Step::Remove(e(1, 1, 8)), Step::Remove(e(2, 9, 8))]);
    }
}
