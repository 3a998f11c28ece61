#!/usr/bin/env bash
# `recon run` of this build against an older revision's, alternating on the
# same generated 1M-line data set (seed 7), 2 threads: a ratio that holds
# when the machine's speed drifts between runs. Prints every run (wall
# seconds, peak RSS in MiB, stage breakdown), then the medians without the
# first (warm-up) pair.
#
#   benches/run_side_by_side.sh REV [PAIRS]     (default 4 pairs)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benches/run_side_by_side.sh REV [PAIRS]}
pairs=${2:-4}
[ "$pairs" -ge 2 ] || { echo "PAIRS must be at least 2 (the first pair is a warm-up)" >&2; exit 2; }
cargo build --release --quiet
data=target/bench-data/run-1000000
[ -d "$data/settlements" ] || target/release/recon gen --lines 1000000 --seed 7 "$data" >/dev/null
old=target/side-by-side
rm -rf "$old/tree"
mkdir -p "$old"
git worktree add --force -q "$old/tree" "$rev"
trap 'git worktree remove --force "$old/tree"' EXIT
(cd "$old/tree" && CARGO_TARGET_DIR="$PWD/../target" cargo build --release --quiet --bin recon)
declare -A walls
for i in $(seq 0 $((pairs - 1))); do
  for build in old new; do
    if [ "$build" = old ]; then bin="$old/target/release/recon"; else bin=target/release/recon; fi
    rm -rf "$data/out"
    /usr/bin/time -f "%e %M" -o "$old/time.txt" "$bin" run --threads 2 \
      --open-items "$data/open_items.csv" --customers "$data/customers.csv" \
      --statements "$data/statements" --remittances "$data/remittances" \
      --settlements "$data/settlements" --out "$data/out" > "$old/summary.txt"
    read -r wall rss < "$old/time.txt"
    echo "$i $build wall=${wall}s peak_rss=$((rss / 1024))MiB $(grep '^time' "$old/summary.txt" | sed 's/^time *//')"
    [ "$i" -gt 0 ] && walls[$build]+="$wall "
  done
done
for build in old new; do
  median=$(printf '%s\n' ${walls[$build]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  [ "$build" = old ] && name="$rev" || name="$(git rev-parse --short HEAD)"
  echo "MEDIAN $build ($name) wall=${median}s (runs: ${walls[$build]})"
done
