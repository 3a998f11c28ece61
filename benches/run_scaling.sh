#!/usr/bin/env bash
# End-to-end `recon run` figures for the README: generated data sets of
# 100k and 1M lines (seed 7), each run REPEAT times at 1 and 2 threads;
# prints every run's wall time, peak RSS and stage breakdown, then medians.
#
#   benches/run_scaling.sh [REPEAT]      (default 3; data in target/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-3}
cargo build --release --quiet
recon=target/release/recon
data=target/bench-data
mkdir -p "$data"
for lines in 100000 1000000; do
  dir="$data/run-$lines"
  [ -d "$dir/settlements" ] || "$recon" gen --lines "$lines" --seed 7 "$dir" >/dev/null
  for threads in 2 1; do
    [ "$lines" = 1000000 ] && [ "$threads" = 1 ] && runs=1 || runs=$repeat
    walls=()
    for _ in $(seq "$runs"); do
      rm -rf "$dir/out"
      /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$recon" run --threads "$threads" \
        --open-items "$dir/open_items.csv" --customers "$dir/customers.csv" \
        --statements "$dir/statements" --remittances "$dir/remittances" --settlements "$dir/settlements" --out "$dir/out" > "$dir/summary.txt"
      read -r wall rss < "$dir/time.txt"
      walls+=("$wall")
      echo "lines=$lines threads=$threads wall=${wall}s peak_rss=$((rss / 1024))MiB $(grep '^time' "$dir/summary.txt" | sed 's/^time *//')"
    done
    median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "MEDIAN lines=$lines threads=$threads wall=${median}s (runs: ${walls[*]})"
  done
done
"$recon" eval "$data/run-1000000/out" "$data/run-1000000/truth.csv" | tail -1
