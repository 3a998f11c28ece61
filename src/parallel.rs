//! Helpers for work split across threads.

use rayon::prelude::*;

/// The parts one after another, moved into one vector by several threads:
/// a million lines are some 400 MB of memory touched for the first time.
/// In a run right after a build, where the kernel clears every such page
/// (about half a GB per second per thread here), one thread copying them
/// was a second of the read stage; in a warm run it costs little either
/// way.
pub fn concat<T: Send>(parts: Vec<Vec<T>>) -> Vec<T> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut all: Vec<T> = Vec::with_capacity(total);
    let mut slots: Vec<(&mut [std::mem::MaybeUninit<T>], Vec<T>)> = Vec::with_capacity(parts.len());
    let mut rest = &mut all.spare_capacity_mut()[..total];
    for part in parts {
        let (here, after) = rest.split_at_mut(part.len());
        slots.push((here, part));
        rest = after;
    }
    // Each part is itself cut, so that even one big file is shared.
    slots.into_par_iter().for_each(|(slots, part)| {
        slots
            .par_iter_mut()
            .zip(part.into_par_iter())
            .for_each(|(slot, value)| {
                slot.write(value);
            });
    });
    // SAFETY: the parts' lengths add up to `total`, the slots were cut from
    // the first `total` of the spare capacity in order, and each slot was
    // written with its part's value above (a zip of a slot slice and its
    // part, of equal length), so the first `total` elements are
    // initialised.
    unsafe { all.set_len(total) };
    all
}

#[cfg(test)]
mod tests {
    use super::concat;

    #[test]
    fn parts_are_moved_in_order() {
        let parts: Vec<Vec<String>> = (0..50)
            .map(|p| (0..p * 7).map(|i| format!("{p}-{i}")).collect())
            .collect();
        let expected: Vec<String> = parts.concat();
        assert_eq!(concat(parts), expected);
        assert!(concat(Vec::<Vec<u8>>::new()).is_empty());
        assert_eq!(concat(vec![vec![], vec![1], vec![]]), vec![1]);
    }
}
