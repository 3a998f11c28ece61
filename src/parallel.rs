//! Helpers for work split across threads.

use std::cmp::Ordering;

use rayon::prelude::*;

/// Bits of a hash that bucket `count` entries four to eight a bucket (at
/// least 2^9 buckets, at most 2^28), for `bucket_sort` and tables built
/// with it.
pub fn bucket_bits(count: usize) -> u32 {
    (usize::BITS - (count / 8).max(256).leading_zeros()).clamp(8, 28)
}

/// `values` sorted into `buckets` buckets by `bucket_of` (which must not
/// decrease as values increase), each value turned into its `place`d form;
/// each bucket then sorted on its own, in parallel runs of buckets.
/// Returns the sorted values and each bucket's start (`buckets + 1`
/// entries, the last the length). For hashes spread evenly over a few
/// entries a bucket: a counting pass, a placing pass and many tiny sorts,
/// where a comparison sort of millions of pairs went over them some twenty
/// times (the index's key tables: 582 M -> 132 M instructions on 100k
/// lines).
pub fn bucket_sort<S, T>(
    values: Vec<S>,
    buckets: usize,
    bucket_of: impl Fn(&S) -> usize + Sync,
    place: impl Fn(&S) -> T + Sync,
) -> (Vec<T>, Vec<u32>)
where
    S: Sync,
    T: Ord + Copy + Default + Send,
{
    assert!(
        u32::try_from(values.len()).is_ok(),
        "fewer than 2^32 values"
    );
    // The buckets in as many ranges as threads: each thread counts and
    // places the values of its own range (every thread reads every value;
    // each writes only its range's places, where one thread placing all
    // of them was a serial half second of a million-line run's index). A
    // bucket's values are placed in their order whatever the ranges.
    let parts = rayon::current_num_threads().clamp(1, buckets.max(1));
    let bounds: Vec<usize> = (0..=parts).map(|k| k * buckets / parts).collect();
    let mut starts = vec![0u32; buckets + 1];
    split_by(&mut starts[1..], &bounds)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, counts)| {
            let low = bounds[k];
            for value in &values {
                if let Some(count) = bucket_of(value)
                    .checked_sub(low)
                    .and_then(|at| counts.get_mut(at))
                {
                    *count += 1;
                }
            }
        });
    for bucket in 0..buckets {
        starts[bucket + 1] += starts[bucket];
    }
    let mut sorted = vec![T::default(); values.len()];
    let places: Vec<usize> = bounds.iter().map(|&b| starts[b] as usize).collect();
    split_by(&mut sorted, &places)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, part)| {
            let (low, high) = (bounds[k], bounds[k + 1]);
            let base = starts[low];
            let mut next: Vec<u32> = starts[low..high].iter().map(|s| s - base).collect();
            for value in &values {
                let bucket = bucket_of(value);
                if (low..high).contains(&bucket) {
                    let at = &mut next[bucket - low];
                    part[*at as usize] = place(value);
                    *at += 1;
                }
            }
        });
    drop(values);
    const RUN: usize = 1 << 14;
    let mut runs: Vec<(usize, &mut [T])> = Vec::new();
    let mut rest = sorted.as_mut_slice();
    for first in (0..buckets).step_by(RUN) {
        let last = (first + RUN).min(buckets);
        let (run, after) = rest.split_at_mut((starts[last] - starts[first]) as usize);
        runs.push((first, run));
        rest = after;
    }
    runs.into_par_iter().for_each(|(first, run)| {
        let last = (first + RUN).min(buckets);
        let base = starts[first] as usize;
        for bucket in first..last {
            run[starts[bucket] as usize - base..starts[bucket + 1] as usize - base].sort_unstable();
        }
    });
    (sorted, starts)
}

/// `values` cut at `bounds` (rising, from 0) into disjoint parts, the
/// values from the last bound on left out.
pub fn split_by<'v, T>(mut values: &'v mut [T], bounds: &[usize]) -> Vec<&'v mut [T]> {
    let mut parts = Vec::with_capacity(bounds.len().saturating_sub(1));
    for pair in bounds.windows(2) {
        let (part, rest) = values.split_at_mut(pair[1] - pair[0]);
        parts.push(part);
        values = rest;
    }
    parts
}

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

/// Values in a merge no fewer than this a piece (below, one thread merges).
const MERGE_PIECE_MIN: usize = 16 * 1024;

/// Mean length of the sorted runs below which `merge_sorted` sorts instead.
const RUN_LENGTH_MIN: usize = 64;

/// The parts' values in one vector, in the order `cmp` gives, ties in the
/// order of the parts and of the values in them: what a stable sort of
/// the parts one after another gives, whatever the thread count. The
/// sorted stretches (runs) of every part are merged straight into the
/// final vector, several pieces of it at once, each value moved once.
///
/// Made for parts that come nearly sorted (a statement file's lines, the
/// files in date order): the work is then a merge of a few hundred runs
/// instead of a sort of the whole, and the move that `concat` would make
/// anyway is the only one. Parts whose runs are shorter than
/// `RUN_LENGTH_MIN` on average are concatenated and sorted instead.
pub fn merge_sorted<T, F>(parts: Vec<Vec<T>>, cmp: F) -> Vec<T>
where
    T: Send + Sync,
    F: Fn(&T, &T) -> Ordering + Sync,
{
    let total: usize = parts.iter().map(Vec::len).sum();
    let pieces = (total / MERGE_PIECE_MIN).clamp(1, 4 * rayon::current_num_threads());
    merge_sorted_in(parts, &cmp, pieces, RUN_LENGTH_MIN)
}

/// A sorted stretch of a part.
#[derive(Clone, Copy)]
struct Run {
    part: usize,
    start: usize,
    end: usize,
}

/// The parts' values, read in place while they are moved out.
struct Source<T>(Vec<*const T>);

// SAFETY: the pointers are read (`&T`, needing `T: Sync`) from several
// threads, and each value is moved out (needing `T: Send`) by exactly one.
unsafe impl<T: Send + Sync> Send for Source<T> {}
unsafe impl<T: Send + Sync> Sync for Source<T> {}

impl<T> Source<T> {
    /// SAFETY: `pos` is within the part, and its value not yet moved out.
    unsafe fn at(&self, part: usize, pos: usize) -> &T {
        unsafe { &*self.0[part].add(pos) }
    }
}

fn merge_sorted_in<T, F>(
    mut parts: Vec<Vec<T>>,
    cmp: &F,
    pieces: usize,
    run_length_min: usize,
) -> Vec<T>
where
    T: Send + Sync,
    F: Fn(&T, &T) -> Ordering + Sync,
{
    let total: usize = parts.iter().map(Vec::len).sum();
    let pieces = pieces.max(1);
    // The runs, in part order, then position: a run's index is then the
    // tie-break of a stable sort.
    let runs: Vec<Vec<Run>> = parts
        .par_iter()
        .enumerate()
        .map(|(part, values)| {
            let mut runs = Vec::new();
            let mut start = 0;
            for at in 1..values.len() {
                if cmp(&values[at - 1], &values[at]) == Ordering::Greater {
                    runs.push(Run {
                        part,
                        start,
                        end: at,
                    });
                    start = at;
                }
            }
            if !values.is_empty() {
                runs.push(Run {
                    part,
                    start,
                    end: values.len(),
                });
            }
            runs
        })
        .collect();
    let runs: Vec<Run> = runs.into_iter().flatten().collect();
    if run_length_min > 0 && runs.len() > total / run_length_min {
        // Not nearly sorted (lines listed newest first, say): a stable
        // sort, whose result is the same, without a merge of thousands of
        // short runs (its cut table and sample grow with the runs).
        let mut all = concat(parts);
        all.par_sort_by(cmp);
        return all;
    }
    // The order of the result, on (run, position) pairs: by value, then
    // run, then position. Along one run it only grows.
    let before = |(ra, pa): (usize, usize), (rb, pb): (usize, usize)| {
        let a = &parts[runs[ra].part][pa];
        let b = &parts[runs[rb].part][pb];
        cmp(a, b).then(ra.cmp(&rb)).then(pa.cmp(&pb)) == Ordering::Less
    };
    // Splitters from a sample of every run (each run's first value at
    // least), then each run cut where the splitter would fall in it.
    let stride = (total / (pieces * 32)).max(1);
    let mut sample: Vec<(usize, usize)> = runs
        .iter()
        .enumerate()
        .flat_map(|(r, run)| (run.start..run.end).step_by(stride).map(move |p| (r, p)))
        .collect();
    let pieces = pieces.clamp(1, sample.len().max(1));
    sample.sort_unstable_by(|&a, &b| {
        if before(a, b) {
            Ordering::Less
        } else if a == b {
            Ordering::Equal
        } else {
            Ordering::Greater
        }
    });
    // cuts[j][r]: where piece j starts in run r (`pieces + 1` rows).
    let mut cuts: Vec<Vec<usize>> = Vec::with_capacity(pieces + 1);
    cuts.push(runs.iter().map(|run| run.start).collect());
    for j in 1..pieces {
        let splitter = sample[j * sample.len() / pieces];
        let row = runs
            .iter()
            .enumerate()
            .map(|(r, run)| {
                // First position of the run not before the splitter.
                let (mut low, mut high) = (run.start, run.end);
                while low < high {
                    let mid = low + (high - low) / 2;
                    if before((r, mid), splitter) {
                        low = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                low
            })
            .zip(&cuts[j - 1])
            // Splitters come in order; the max only guards the invariant.
            .map(|(cut, &previous)| cut.max(previous))
            .collect();
        cuts.push(row);
    }
    cuts.push(runs.iter().map(|run| run.end).collect());
    // From here the values belong to the merge: the parts keep their
    // buffers only, and a panic in `cmp` leaks values, never drops one
    // twice.
    let source = Source(parts.iter().map(|p| p.as_ptr()).collect());
    for part in &mut parts {
        // SAFETY: shrinking the length; the values stay where they are.
        unsafe { part.set_len(0) };
    }
    let mut all: Vec<T> = Vec::with_capacity(total);
    let mut rest = &mut all.spare_capacity_mut()[..total];
    let mut work = Vec::with_capacity(pieces);
    for j in 0..pieces {
        let segments: Vec<(usize, usize, usize)> = (0..runs.len())
            .filter(|&r| cuts[j][r] < cuts[j + 1][r])
            .map(|r| (runs[r].part, cuts[j][r], cuts[j + 1][r]))
            .collect();
        let len = segments.iter().map(|&(_, from, to)| to - from).sum();
        let (here, after) = rest.split_at_mut(len);
        work.push((segments, here));
        rest = after;
    }
    work.into_par_iter()
        .for_each(|(segments, out)| merge_segments(&source, segments, out, cmp));
    // SAFETY: the pieces' segments cover every position of every run
    // once (the cuts of a run grow from its start to its end), the runs
    // cover every part, and each piece wrote exactly as many values as its
    // segments hold, into its own stretch of the first `total` slots.
    unsafe { all.set_len(total) };
    all
}

/// Merges sorted segments `(part, from, to)` (in run order: the
/// tie-break) into `out`, moving each value.
fn merge_segments<T, F>(
    source: &Source<T>,
    mut segments: Vec<(usize, usize, usize)>,
    out: &mut [std::mem::MaybeUninit<T>],
    cmp: &F,
) where
    F: Fn(&T, &T) -> Ordering,
{
    // A min-heap of segment indices by their current values.
    // SAFETY (every `at` below): a segment's current position is below
    // its end and its value not yet moved.
    let less = |segments: &[(usize, usize, usize)], a: usize, b: usize| {
        let (pa, xa, _) = segments[a];
        let (pb, xb, _) = segments[b];
        match unsafe { cmp(source.at(pa, xa), source.at(pb, xb)) } {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        }
    };
    let sift_down = |heap: &mut [usize], segments: &[(usize, usize, usize)], mut at: usize| {
        loop {
            let mut least = at;
            for child in [2 * at + 1, 2 * at + 2] {
                if child < heap.len() && less(segments, heap[child], heap[least]) {
                    least = child;
                }
            }
            if least == at {
                return;
            }
            heap.swap(at, least);
            at = least;
        }
    };
    let mut heap: Vec<usize> = (0..segments.len()).collect();
    for at in (0..heap.len() / 2).rev() {
        sift_down(&mut heap, &segments, at);
    }
    for slot in out.iter_mut() {
        let top = heap[0];
        let (part, pos, end) = segments[top];
        // SAFETY: as above; the value is moved out exactly once, here,
        // and its segment moves past it.
        slot.write(unsafe { std::ptr::read(source.at(part, pos)) });
        segments[top].1 = pos + 1;
        if pos + 1 == end {
            heap.swap_remove(0);
        }
        if !heap.is_empty() {
            sift_down(&mut heap, &segments, 0);
        }
    }
}

/// The order that sorts `values` stably by `cmp` (their positions, the
/// first in the sorted order first), when the values are nearly sorted:
/// when they can be dealt in order onto at most `RISING_PILES` piles, each
/// rising. `None` otherwise, or beyond 2^32 values (sort the values
/// themselves then).
///
/// Each value goes on the pile whose last value is the highest not above
/// it; the piles are then merged, two by two. An open-items file numbered
/// in order but for its credit notes and for the invoices numbered past
/// 999999 (which sort among the others) makes three piles: a comparison or
/// a few a value instead of a sort's twenty.
pub fn nearly_sorted_order<T, F>(values: &[T], cmp: F) -> Option<Vec<u32>>
where
    F: Fn(&T, &T) -> Ordering,
{
    if values.len() > u32::MAX as usize {
        return None;
    }
    // Each pile with its positions; its last value is the last position's.
    let mut piles: Vec<Vec<u32>> = Vec::new();
    for (at, value) in values.iter().enumerate() {
        let mut best: Option<(usize, &T)> = None;
        for (p, pile) in piles.iter().enumerate() {
            let last = &values[pile[pile.len() - 1] as usize];
            let fits = cmp(last, value) != Ordering::Greater;
            if fits && best.is_none_or(|(_, best)| cmp(last, best) == Ordering::Greater) {
                best = Some((p, last));
            }
        }
        match best {
            Some((p, _)) => piles[p].push(at as u32),
            None if piles.len() < RISING_PILES => piles.push(vec![at as u32]),
            None => return None,
        }
    }
    while piles.len() > 1 {
        let mut merged = Vec::with_capacity(piles.len().div_ceil(2));
        let mut pairs = piles.into_iter();
        while let Some(left) = pairs.next() {
            merged.push(match pairs.next() {
                Some(right) => merge_positions(values, &left, &right, &cmp),
                None => left,
            });
        }
        piles = merged;
    }
    Some(piles.pop().unwrap_or_default())
}

/// Piles of `nearly_sorted_order` before the values count as unsorted.
const RISING_PILES: usize = 8;

/// Two lists of positions, each in stable order, merged in stable order.
fn merge_positions<T, F>(values: &[T], left: &[u32], right: &[u32], cmp: &F) -> Vec<u32>
where
    F: Fn(&T, &T) -> Ordering,
{
    let mut order = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (0, 0);
    while l < left.len() && r < right.len() {
        let (x, y) = (left[l], right[r]);
        if cmp(&values[x as usize], &values[y as usize]).then(x.cmp(&y)) == Ordering::Greater {
            order.push(y);
            r += 1;
        } else {
            order.push(x);
            l += 1;
        }
    }
    order.extend_from_slice(&left[l..]);
    order.extend_from_slice(&right[r..]);
    order
}

/// `values` rearranged in `order` (a permutation of their positions: the
/// value at `order[k]` goes to `k`), in place: each value moved once,
/// along the permutation's cycles, and no second vector. A nearly sorted
/// open-items file moves its few hundred MB without taking as much again
/// fresh from the system, which costs more than the moves (see
/// `process::no_huge_pages`).
///
/// Panics if `order` is not a permutation of `0..values.len()`, before
/// any value is moved.
pub fn permuted<T>(mut values: Vec<T>, order: &[u32]) -> Vec<T> {
    let total = values.len();
    assert_eq!(order.len(), total, "the order is not a permutation");
    // `placed[k]`: position k holds its final value. Checked to be a
    // permutation first (every position named once), then cleared.
    let mut placed = vec![false; total];
    for &at in order {
        let slot = placed
            .get_mut(at as usize)
            .expect("the order is not a permutation");
        assert!(!*slot, "the order is not a permutation");
        *slot = true;
    }
    placed.fill(false);
    let base = values.as_mut_ptr();
    for start in 0..total {
        if placed[start] || order[start] as usize == start {
            continue;
        }
        // SAFETY: every position is below `total`; the cycle through
        // `start` moves each of its values once into the place it leaves,
        // the first one last from `held`. Nothing here can panic, so no
        // value is dropped twice or lost.
        unsafe {
            let held = std::ptr::read(base.add(start));
            let mut at = start;
            loop {
                placed[at] = true;
                let from = order[at] as usize;
                if from == start {
                    std::ptr::write(base.add(at), held);
                    break;
                }
                std::ptr::copy_nonoverlapping(base.add(from), base.add(at), 1);
                at = from;
            }
        }
    }
    values
}

/// Runs `fill(number, places)` for every group of positions of `out` in
/// parallel; `places` puts values at the group's positions, in the
/// group's order (`Places::put`), straight into `out`: no per-group vector
/// and no second copy. Results come back in group order.
///
/// Panics, before any group runs, if a position is beyond `out` or in two
/// groups (so no two threads ever write one place).
pub fn scatter_groups<T, R, F>(out: &mut [T], groups: &[Vec<usize>], fill: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut Places<'_, T>) -> R + Sync,
{
    let mut taken = vec![false; out.len()];
    for &at in groups.iter().flatten() {
        let slot = taken.get_mut(at).expect("a position beyond the values");
        assert!(!*slot, "position {at} is in two groups");
        *slot = true;
    }
    drop(taken);
    let base = Base(out.as_mut_ptr());
    groups
        .par_iter()
        .enumerate()
        .map(|(number, positions)| {
            let mut places = Places {
                base: &base,
                positions,
                next: 0,
            };
            fill(number, &mut places)
        })
        .collect()
}

/// `out`'s start, shared by the groups of `scatter_groups`.
struct Base<T>(*mut T);

// SAFETY: each thread writes only the positions of its own groups, which
// no other group has (checked by `scatter_groups`), and `T: Send` lets a
// value move to the thread that puts it.
unsafe impl<T: Send> Sync for Base<T> {}

/// One group's positions in `scatter_groups`.
pub struct Places<'a, T> {
    base: &'a Base<T>,
    positions: &'a [usize],
    next: usize,
}

impl<'a, T> Places<'a, T> {
    /// The group's positions, in order.
    pub fn positions(&self) -> &'a [usize] {
        self.positions
    }

    /// Puts `value` at the group's next position (the old value dropped).
    /// Panics beyond the group's last position.
    pub fn put(&mut self, value: T) {
        let at = self.positions[self.next];
        self.next += 1;
        // SAFETY: `at` is within `out` and belongs to this group alone
        // (both checked by `scatter_groups`); `out` is borrowed mutably
        // for the whole of `scatter_groups`.
        unsafe { *self.base.0.add(at) = value };
    }
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
    use super::{
        bucket_sort, concat, merge_sorted, merge_sorted_in, nearly_sorted_order, permuted,
        scatter_groups,
    };

    #[test]
    fn bucket_sort_sorts_as_sort_unstable_does() {
        let mut state = 5u64;
        for length in [0usize, 1, 7, 1000, 70_000] {
            let values: Vec<(u64, u32)> = (0..length)
                .map(|i| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // Repeats, and equal hashes under several values.
                    let hash =
                        (state % (length as u64 / 2 + 1)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    (hash, (i % 3) as u32)
                })
                .collect();
            let mut expected = values.clone();
            expected.sort_unstable();
            // Buckets split among 1, 3 and 8 threads (and more threads
            // than the two buckets of `bits` 1).
            for (bits, threads) in [(10, 1), (10, 3), (10, 8), (1, 8)] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (sorted, starts) = pool.install(|| {
                    bucket_sort(
                        values.clone(),
                        1 << bits,
                        |&(h, _)| (h >> (64 - bits)) as usize,
                        |&v| v,
                    )
                });
                assert_eq!(sorted, expected);
                assert_eq!(starts.len(), (1 << bits) + 1);
                assert_eq!(*starts.last().unwrap() as usize, length);
                for (bucket, window) in starts.windows(2).enumerate() {
                    assert!(
                        sorted[window[0] as usize..window[1] as usize]
                            .iter()
                            .all(|&(h, _)| (h >> (64 - bits)) as usize == bucket)
                    );
                }
            }
        }
    }

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

    /// Numbers below `bound`, the same for the same seed.
    fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |bound| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        }
    }

    /// A stable sort of the parts one after another, whatever the pieces.
    #[test]
    fn merge_is_a_stable_sort_of_the_parts() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        for case in 0..300 {
            let part_count = next(12) as usize;
            let keys = [3, 50, 1_000_000][case % 3];
            let parts: Vec<Vec<(u64, usize)>> = (0..part_count)
                .map(|p| {
                    let len = next(if case % 10 == 0 { 3000 } else { 40 }) as usize;
                    let mut key = next(keys);
                    (0..len)
                        .map(|i| {
                            // Mostly rising, as statement lines come.
                            key = if next(8) == 0 {
                                next(keys)
                            } else {
                                (key + next(3)).min(keys)
                            };
                            (key, p * 10_000 + i)
                        })
                        .collect()
                })
                .collect();
            let mut expected = parts.concat();
            expected.sort_by_key(|&(key, _)| key);
            // Merged whatever the runs (0), or sorted when they are short
            // (the default bound), in any number of pieces.
            for run_length_min in [0, super::RUN_LENGTH_MIN] {
                for pieces in [0, 1, 2, 3, 7, 64] {
                    let merged = merge_sorted_in(
                        parts.clone(),
                        &|a: &(u64, usize), b: &(u64, usize)| a.0.cmp(&b.0),
                        pieces,
                        run_length_min,
                    );
                    assert_eq!(merged, expected, "case {case}, {pieces} pieces");
                }
            }
        }
        assert!(merge_sorted(Vec::<Vec<u8>>::new(), |a, b| a.cmp(b)).is_empty());
        assert!(
            merge_sorted_in(vec![Vec::<u8>::new(); 3], &|a: &u8, b: &u8| a.cmp(b), 4, 0).is_empty()
        );
        assert_eq!(
            merge_sorted(vec![vec![], vec![5, 1], vec![3]], |a, b| a.cmp(b)),
            vec![1, 3, 5]
        );
        // Newest first: every value a run of its own, sorted instead, stably.
        let backwards: Vec<Vec<(u32, u32)>> = (0..4)
            .map(|p| (0..50_000).rev().map(|i| (i / 3, p)).collect())
            .collect();
        let mut expected = backwards.concat();
        expected.sort_by_key(|&(key, _)| key);
        assert_eq!(merge_sorted(backwards, |a, b| a.0.cmp(&b.0)), expected);
    }

    /// Every value moved once: none dropped twice, none lost.
    #[test]
    fn merge_moves_each_value_once() {
        let live = std::sync::Arc::new(std::sync::atomic::AtomicIsize::new(0));
        let parts: Vec<Vec<Counted>> = (0..9u32)
            .map(|p| {
                (0..(p * 997) % 4000)
                    .map(|i| Counted::new((i * 7 + p) % 5000, &live))
                    .collect()
            })
            .collect();
        let count: usize = parts.iter().map(Vec::len).sum();
        let merged = merge_sorted_in(parts, &|a: &Counted, b: &Counted| a.0.cmp(&b.0), 5, 0);
        assert_eq!(merged.len(), count);
        assert_eq!(
            live.load(std::sync::atomic::Ordering::SeqCst),
            count as isize
        );
        assert!(merged.windows(2).all(|w| w[0].0 <= w[1].0));
        drop(merged);
        assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn nearly_sorted_values_are_sorted_stably() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let cmp = |a: &(u64, usize), b: &(u64, usize)| a.0.cmp(&b.0);
        let stable_sort = |values: &[(u64, usize)]| {
            let mut sorted = values.to_vec();
            sorted.sort_by_key(|&(key, _)| key);
            sorted
        };
        let mut ordered = 0;
        for case in 0..400 {
            let len = next(if case % 20 == 0 { 5000 } else { 80 }) as usize;
            let keys = [4, 100, 1_000_000][case % 3];
            let mut key = 0;
            let values: Vec<(u64, usize)> = (0..len)
                .map(|i| {
                    // Rising, a value out of place now and then (a credit
                    // note among invoices), and a jump now and then.
                    let value = if next(6) == 0 {
                        next(keys)
                    } else {
                        if next(60) == 0 {
                            key = next(keys);
                        }
                        key = (key + next(3)).min(keys);
                        key
                    };
                    (value, i)
                })
                .collect();
            let expected = stable_sort(&values);
            if let Some(order) = nearly_sorted_order(&values, cmp) {
                assert_eq!(permuted(values, &order), expected, "case {case}");
                ordered += 1;
            }
        }
        assert!(ordered > 300, "{ordered} of 400 ordered");
        // Two sorted sequences interleaved (numbers past 999999 sorting
        // among the others), with values out of place in both.
        let values: Vec<(u64, usize)> = (0..30_000u64)
            .map(|i| {
                let key = if i < 10_000 {
                    i * 3
                } else {
                    (i - 10_000) * 2 + 1
                };
                (if i % 17 == 0 { key / 5 } else { key }, i as usize)
            })
            .collect();
        let order = nearly_sorted_order(&values, cmp).expect("nearly sorted");
        assert_eq!(permuted(values.clone(), &order), stable_sort(&values));
        // Sorted backwards: nothing rises.
        let backwards: Vec<(u64, usize)> = (0..100).rev().map(|i| (i, 0)).collect();
        assert_eq!(nearly_sorted_order(&backwards, cmp), None);
        // Eight rising runs, and nine: one too many.
        let runs = |count: usize| -> Vec<(u64, usize)> {
            (0..count)
                .flat_map(|r| (0..50).map(move |i| (i as u64 * 10 + r as u64, r * 50 + i)))
                .collect()
        };
        let order = nearly_sorted_order(&runs(8), cmp).expect("eight piles");
        assert_eq!(permuted(runs(8), &order), stable_sort(&runs(8)));
        assert_eq!(nearly_sorted_order(&runs(9), cmp), None);
        assert_eq!(
            nearly_sorted_order(&[] as &[(u64, usize)], cmp),
            Some(vec![])
        );
    }

    #[test]
    fn permuted_moves_each_value_once_and_refuses_a_non_permutation() {
        let live = std::sync::Arc::new(std::sync::atomic::AtomicIsize::new(0));
        let values: Vec<Counted> = (0..200_000).map(|i| Counted::new(i, &live)).collect();
        let order: Vec<u32> = (0..200_000u32).map(|i| (i * 7919) % 200_000).collect();
        let moved = permuted(values, &order);
        assert!(moved.iter().zip(&order).all(|(v, &at)| v.0 == at));
        assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 200_000);
        drop(moved);
        assert_eq!(live.load(std::sync::atomic::Ordering::SeqCst), 0);
        for order in [vec![0, 0, 2], vec![0, 1], vec![0, 1, 3]] {
            let refused = std::panic::catch_unwind(|| permuted(vec![1u8, 2, 3], &order));
            assert!(refused.is_err(), "{order:?}");
        }
    }

    #[test]
    fn scatter_groups_puts_each_value_at_its_place_and_refuses_overlaps() {
        let live = std::sync::Arc::new(std::sync::atomic::AtomicIsize::new(0));
        // Positions dealt to 37 groups out of order (by a stride prime to
        // the length).
        let total = 10_000usize;
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); 37];
        for k in 0..total {
            let at = (k * 7919) % total;
            groups[at % 37].push(at);
        }
        let mut out: Vec<Counted> = (0..total).map(|_| Counted::new(u32::MAX, &live)).collect();
        let sums = scatter_groups(&mut out, &groups, |number, places| {
            let mut sum = 0;
            for &at in places.positions() {
                places.put(Counted::new(at as u32, &live));
                sum += at;
            }
            (number, sum)
        });
        assert!(out.iter().enumerate().all(|(at, v)| v.0 == at as u32));
        // The values replaced were dropped, each once.
        assert_eq!(
            live.load(std::sync::atomic::Ordering::SeqCst),
            total as isize
        );
        for (number, (got, sum)) in sums.into_iter().enumerate() {
            assert_eq!(got, number);
            assert_eq!(sum, groups[number].iter().sum::<usize>());
        }
        // A position in two groups, or beyond the values: refused before
        // anything runs.
        for groups in [vec![vec![0, 1], vec![1]], vec![vec![0], vec![3]]] {
            let ran = std::sync::atomic::AtomicBool::new(false);
            let mut out = [0u8; 3];
            let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scatter_groups(&mut out, &groups, |_, places| {
                    ran.store(true, std::sync::atomic::Ordering::SeqCst);
                    places.put(1);
                })
            }));
            assert!(refused.is_err(), "{groups:?}");
            assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        }
        // A group putting more values than it has positions panics.
        let mut out = [0u8; 2];
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scatter_groups(&mut out, &[vec![0], vec![1]], |_, places| {
                places.put(1);
                places.put(2);
            })
        }));
        assert!(refused.is_err());
    }
}
