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

/// A part's room in a vector filled by several threads at once (see
/// `fill_parts`): values pushed go straight to their final place.
pub struct Slots<'a, T> {
    room: &'a mut [std::mem::MaybeUninit<T>],
    len: usize,
    /// Values beyond the room promised (a bound that did not hold): kept,
    /// in order, and the vector assembled the slow way.
    overflow: Vec<T>,
}

impl<T> Slots<'_, T> {
    pub fn push(&mut self, value: T) {
        match self.room.get_mut(self.len) {
            Some(slot) if self.overflow.is_empty() => {
                slot.write(value);
                self.len += 1;
            }
            _ => self.overflow.push(value),
        }
    }
}

impl<T> Drop for Slots<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the first `len` slots were written by `push` and nothing
        // else owns them until `fill_parts` takes them (setting `len` to
        // 0 first).
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                self.room.as_mut_ptr().cast::<T>(),
                self.len,
            ));
        }
    }
}

/// One vector filled by the parts in parallel, in their order: each part
/// gets room for at most `room(part)` values in the final allocation and
/// pushes its values there, so that nothing is copied and no memory is
/// touched twice. Where a part pushes fewer values than its room, later
/// parts are moved down (within memory already touched); a part that
/// pushes more than its room still works, through a copy. The first error
/// in part order is returned, every value pushed dropped.
pub fn fill_parts<P, T, R, E>(
    parts: Vec<P>,
    room: impl Fn(&P) -> usize,
    fill: impl Fn(P, &mut Slots<'_, T>) -> Result<R, E> + Sync,
) -> Result<(Vec<T>, Vec<R>), E>
where
    P: Send,
    T: Send,
    R: Send,
    E: Send,
{
    let rooms: Vec<usize> = parts.iter().map(room).collect();
    let total: usize = rooms.iter().sum();
    let mut all: Vec<T> = Vec::with_capacity(total);
    let mut cut = Vec::with_capacity(parts.len());
    // Where each part's room starts.
    let mut offsets = Vec::with_capacity(parts.len());
    let mut rest = &mut all.spare_capacity_mut()[..total];
    for (part, room) in parts.into_iter().zip(&rooms) {
        offsets.push(total - rest.len());
        let (here, after) = std::mem::take(&mut rest).split_at_mut(*room);
        cut.push((part, here));
        rest = after;
    }
    type Filled<T, R> = (usize, Vec<T>, R);
    let results: Vec<Result<Filled<T, R>, E>> = cut
        .into_par_iter()
        .map(|(part, room)| {
            let mut slots = Slots {
                room,
                len: 0,
                overflow: Vec::new(),
            };
            let result = fill(part, &mut slots)?;
            // The values now belong to `all`: not dropped with the slots.
            let len = std::mem::take(&mut slots.len);
            Ok((len, std::mem::take(&mut slots.overflow), result))
        })
        .collect();
    let base = all.as_mut_ptr();
    let drop_filled = |results: &[Result<Filled<T, R>, E>]| {
        for (result, &at) in results.iter().zip(&offsets) {
            if let Ok((len, _, _)) = result {
                // SAFETY: the part wrote `len` values from `at`, which no
                // one else owns (`all` has length 0).
                unsafe {
                    std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(base.add(at), *len))
                };
            }
        }
    };
    if results.iter().any(Result::is_err) {
        drop_filled(&results);
        let error = results.into_iter().find_map(Result::err);
        return Err(error.expect("an error was seen"));
    }
    let filled: Vec<Filled<T, R>> = results.into_iter().filter_map(Result::ok).collect();
    if filled.iter().any(|(_, overflow, _)| !overflow.is_empty()) {
        // A room was too small: the values moved out into a new vector.
        let mut moved = Vec::with_capacity(filled.iter().map(|(len, o, _)| len + o.len()).sum());
        let mut outcomes = Vec::with_capacity(filled.len());
        for ((len, overflow, result), &at) in filled.into_iter().zip(&offsets) {
            for i in 0..len {
                // SAFETY: each of the part's `len` values is read once.
                moved.push(unsafe { std::ptr::read(base.add(at + i)) });
            }
            moved.extend(overflow);
            outcomes.push(result);
        }
        return Ok((moved, outcomes));
    }
    let mut len = 0;
    let mut outcomes = Vec::with_capacity(filled.len());
    for ((count, _, result), &at) in filled.into_iter().zip(&offsets) {
        if at != len {
            // SAFETY: `count` initialised values at `at` move down to
            // `len <= at`, within the allocation; `copy` allows overlap.
            unsafe { std::ptr::copy(base.add(at), base.add(len), count) };
        }
        len += count;
        outcomes.push(result);
    }
    // SAFETY: the first `len` elements were moved together above, each
    // initialised by its part.
    unsafe { all.set_len(len) };
    Ok((all, outcomes))
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

    /// Counts live values, so that a test sees each dropped exactly once.
    struct Counted(u32, std::sync::Arc<std::sync::atomic::AtomicIsize>);

    impl Counted {
        fn new(value: u32, live: &std::sync::Arc<std::sync::atomic::AtomicIsize>) -> Counted {
            live.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Counted(value, live.clone())
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Parts given as (room, values to push, fail?).
    fn filled(
        parts: Vec<(usize, Vec<u32>, bool)>,
        live: &std::sync::Arc<std::sync::atomic::AtomicIsize>,
    ) -> Result<(Vec<u32>, Vec<usize>), usize> {
        super::fill_parts(
            parts.into_iter().enumerate().collect(),
            |(_, (room, _, _))| *room,
            |(index, (_, values, fail)), slots| {
                for value in values {
                    slots.push(Counted::new(value, live));
                }
                if fail { Err(index) } else { Ok(index) }
            },
        )
        .map(|(all, outcomes)| (all.iter().map(|c| c.0).collect(), outcomes))
    }

    #[test]
    fn parts_fill_one_vector_in_order() {
        let live = std::sync::Arc::new(std::sync::atomic::AtomicIsize::new(0));
        let exact = filled(
            vec![(2, vec![1, 2], false), (3, vec![3, 4, 5], false)],
            &live,
        );
        assert_eq!(exact, Ok((vec![1, 2, 3, 4, 5], vec![0, 1])));
        // Rooms larger than needed: later parts move down.
        let gaps = filled(
            vec![
                (4, vec![1], false),
                (0, vec![], false),
                (3, vec![2, 3], false),
                (2, vec![4, 5], false),
            ],
            &live,
        );
        assert_eq!(gaps, Ok((vec![1, 2, 3, 4, 5], vec![0, 1, 2, 3])));
        // A room too small: still every value, in order.
        let over = filled(
            vec![(1, vec![1, 2, 3], false), (2, vec![4, 5], false)],
            &live,
        );
        assert_eq!(over, Ok((vec![1, 2, 3, 4, 5], vec![0, 1])));
        // The first failing part's error; every value pushed is dropped.
        let failed = filled(
            vec![
                (2, vec![1, 2], false),
                (3, vec![3], true),
                (2, vec![4, 5, 6], true),
            ],
            &live,
        );
        assert_eq!(failed, Err(1));
        assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 0);
        let many: Vec<(usize, Vec<u32>, bool)> = (0..200)
            .map(|p| {
                (
                    p % 7 + 3,
                    (0..(p % 7) as u32).map(|v| p as u32 * 10 + v).collect(),
                    false,
                )
            })
            .collect();
        let expected: Vec<u32> = many.iter().flat_map(|(_, v, _)| v.clone()).collect();
        assert_eq!(filled(many, &live).map(|(all, _)| all), Ok(expected));
        assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
