//! The bounded combination search: which of a customer's open items add up
//! to a payment that names none of them.
//!
//! Fewest items first; at the smallest size that has a solution, the
//! solution must be unique or the line is ambiguous. Amounts are integer
//! cents. Bounded three ways (config): `subset_max_items` per combination,
//! `subset_max_candidates` items looked at (the oldest), and
//! `subset_max_steps` combinations tried per line, so one customer with a
//! thousand equal invoices cannot stall a run.

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Exactly one combination at the smallest size with a solution
    /// (indices into the candidate slice, ascending).
    Unique(Vec<usize>),
    /// Two or more at that size: the first few, for suggestions.
    Ambiguous(Vec<Vec<usize>>),
    None,
    /// The step bound was hit before an answer.
    GaveUp,
}

/// Combinations of 2..=`max_items` of `amounts` (cents) within `tolerance`
/// cents of `target`.
pub fn search(
    amounts: &[i64],
    target: i64,
    tolerance: i64,
    max_items: usize,
    max_steps: u64,
) -> Found {
    let mut steps = 0u64;
    // Sorted views make pruning possible when every amount is positive.
    let all_positive = amounts.iter().all(|&a| a > 0);
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    order.sort_by_key(|&i| (amounts[i], i));
    let sorted: Vec<i64> = order.iter().map(|&i| amounts[i]).collect();
    for size in 2..=max_items.min(amounts.len()) {
        let mut solutions: Vec<Vec<usize>> = Vec::new();
        let mut chosen: Vec<usize> = Vec::with_capacity(size);
        let complete = walk(
            &sorted,
            target,
            tolerance,
            size,
            0,
            0,
            all_positive,
            &mut chosen,
            &mut solutions,
            &mut steps,
            max_steps,
        );
        if !complete {
            return Found::GaveUp;
        }
        if !solutions.is_empty() {
            let mut mapped: Vec<Vec<usize>> = solutions
                .into_iter()
                .map(|s| {
                    let mut v: Vec<usize> = s.iter().map(|&i| order[i]).collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            mapped.sort();
            return if mapped.len() == 1 {
                Found::Unique(mapped.remove(0))
            } else {
                Found::Ambiguous(mapped)
            };
        }
    }
    Found::None
}

/// Depth-first over combinations of `size` items from `from`; stops
/// collecting at 3 solutions (enough to know it is ambiguous and to
/// suggest). Returns false when the step bound was hit.
#[allow(clippy::too_many_arguments)]
fn walk(
    sorted: &[i64],
    target: i64,
    tolerance: i64,
    size: usize,
    from: usize,
    sum: i64,
    all_positive: bool,
    chosen: &mut Vec<usize>,
    solutions: &mut Vec<Vec<usize>>,
    steps: &mut u64,
    max_steps: u64,
) -> bool {
    let left = size - chosen.len();
    if left == 0 {
        if (sum - target).abs() <= tolerance {
            solutions.push(chosen.clone());
        }
        return true;
    }
    for i in from..sorted.len() {
        if sorted.len() - i < left || solutions.len() >= 3 {
            break;
        }
        *steps += 1;
        if *steps > max_steps {
            return false;
        }
        if all_positive {
            // The smallest completion from here already overshoots.
            let smallest: i64 = sorted[i..i + left].iter().sum();
            if sum + smallest > target + tolerance {
                break;
            }
            // The largest completion from here falls short: try larger items.
            let largest: i64 = sorted[sorted.len() - left..].iter().sum();
            if sum + largest < target - tolerance {
                break;
            }
        }
        chosen.push(i);
        let complete = walk(
            sorted,
            target,
            tolerance,
            size,
            i + 1,
            sum + sorted[i],
            all_positive,
            chosen,
            solutions,
            steps,
            max_steps,
        );
        chosen.pop();
        if !complete {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ambiguous_none_and_bounded() {
        let amounts = [10_000, 25_050, 7_525, 3_000, 40_000];
        assert_eq!(
            search(&amounts, 32_575, 0, 6, 100_000),
            Found::Unique(vec![1, 2])
        );
        assert_eq!(search(&amounts, 32_580, 0, 6, 100_000), Found::None);
        assert_eq!(
            search(&amounts, 32_580, 500, 6, 100_000),
            Found::Unique(vec![1, 2])
        );
        // 10000+3000 = 13000 and no other pair: unique; three items next.
        assert_eq!(
            search(&amounts, 20_525, 0, 6, 100_000),
            Found::Unique(vec![0, 2, 3])
        );
        let twins = [5_000, 5_000, 5_000];
        assert!(
            matches!(search(&twins, 10_000, 0, 6, 100_000), Found::Ambiguous(s) if s.len() == 3)
        );
        let many: Vec<i64> = (1..=40).map(|i| i * 1_000 + 1).collect();
        // A target below every amount is refuted by pruning, not by the bound.
        assert_eq!(search(&many, 1, 0, 6, 50), Found::None);
        // An unreachable target among many similar amounts hits the bound.
        assert_eq!(search(&many, 150_000, 0, 6, 50), Found::GaveUp);
        // Credit notes: no pruning, still exact.
        assert_eq!(
            search(&[10_000, -2_000, 5_000], 8_000, 0, 6, 1_000),
            Found::Unique(vec![0, 1])
        );
    }
}
