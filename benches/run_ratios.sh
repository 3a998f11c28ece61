#!/usr/bin/env bash
# The ratios issue 4 sets, each measured side by side in rounds (so that a
# drift of the machine's speed moves both sides): per round, on the
# generated data sets (seed 7), a 100k-line run at 2 threads and at 1, a
# 1M-line run at 2 threads, and parse-only of the 1M statements
# (`recon parse --json` to /dev/null). Prints each round, then the
# medians of the walls and of the per-round ratios.
#
#   benches/run_ratios.sh [ROUNDS]      (default 5; data in target/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release --quiet
recon=target/release/recon
data=target/bench-data
for lines in 100000 1000000; do
  dir="$data/run-$lines"
  [ -d "$dir/settlements" ] || "$recon" gen --lines "$lines" --seed 7 "$dir" >/dev/null
done
run() { # DIR THREADS -> wall seconds
  local dir=$1
  rm -rf "$dir/out"
  /usr/bin/time -f "%e" -o "$dir/time.txt" "$recon" run --threads "$2" \
    --open-items "$dir/open_items.csv" --customers "$dir/customers.csv" \
    --statements "$dir/statements" --remittances "$dir/remittances" \
    --settlements "$dir/settlements" --out "$dir/out" >/dev/null
  cat "$dir/time.txt"
}
small="$data/run-100000"
large="$data/run-1000000"
declare -a s2 s1 l2 p scale threads parse
for i in $(seq "$rounds"); do
  a=$(run "$small" 2)
  b=$(run "$small" 1)
  c=$(run "$large" 2)
  /usr/bin/time -f "%e" -o "$large/time.txt" "$recon" parse --json "$large/statements" >/dev/null
  d=$(cat "$large/time.txt")
  s2+=("$a"); s1+=("$b"); l2+=("$c"); p+=("$d")
  scale+=("$(echo "$c / $a" | bc -l)")
  threads+=("$(echo "$b / $a" | bc -l)")
  parse+=("$(echo "$c / $d" | bc -l)")
  printf 'round %d: 100k %.2f s (1 thread %.2f s, %.2fx), 1M %.2f s (%.1fx the 100k), parse-only 1M %.2f s (run %.1fx)\n' \
    "$i" "$a" "$b" "${threads[-1]}" "$c" "${scale[-1]}" "$d" "${parse[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'MEDIAN 100k %.2f s, 1 thread %.2f s, 1M %.2f s, parse-only %.2f s\n' \
  "$(median "${s2[@]}")" "$(median "${s1[@]}")" "$(median "${l2[@]}")" "$(median "${p[@]}")"
printf 'MEDIAN ratios: 2 threads over 1 (100k) %.2fx, 100k -> 1M %.2fx, run over parse-only (1M) %.2fx\n' \
  "$(median "${threads[@]}")" "$(median "${scale[@]}")" "$(median "${parse[@]}")"
