#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader of untrusted bytes with
# cargo-fuzz (libFuzzer), SECONDS per target (default 60), seeded with our
# fixtures, generated files and, when it is beside the repository, the
# shared corpus. Prints each target's executions; a crash stops the script
# with the input saved under fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh [SECONDS]            every target
#   TARGETS="camt mt940" fuzz/run.sh 30
#
# Needs the nightly toolchain (libFuzzer's instrumentation flags) and
# cargo-fuzz, installed here when missing. CI runs the seeded mutation test
# over the same readers instead (tests/it/mutation.rs), as the stable
# toolchain cannot build these targets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=${TARGETS:-"camt remt mt940 cfonb120 bai2 remittance_csv open_items customers settlements config detect"}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
corpus=../shared/corpus
generated=fuzz/corpus/generated
rm -rf "$generated"
cargo run --release -q -- gen --lines 40 --seed 9 "$generated" >/dev/null
cargo +nightly fuzz build -s none -O 2>&1 | tail -1

seeds_of() {
    local dirs=()
    case "$1" in
        camt) dirs=(fixtures/camt052 fixtures/camt053 fixtures/camt054 "$corpus"/camt052 "$corpus"/camt053 "$corpus"/camt054 "$generated"/statements) ;;
        remt) dirs=(fixtures/remt "$corpus"/remt) ;;
        mt940) dirs=(fixtures/mt940 fixtures/mt942 "$corpus"/mt940 "$corpus"/mt942) ;;
        cfonb120) dirs=(fixtures/cfonb120 "$corpus"/cfonb120) ;;
        bai2) dirs=(fixtures/bai2 "$corpus"/bai2) ;;
        remittance_csv) dirs=(fixtures/remittance_csv "$generated"/remittances) ;;
        open_items | customers) dirs=(fixtures/run/basic fixtures/run/settlements) ;;
        settlements) dirs=(fixtures/run/settlements) ;;
        config) dirs=(fuzz/seeds/config) ;;
        detect) dirs=(fixtures) ;;
    esac
    for dir in "${dirs[@]}"; do
        [ -d "$dir" ] && echo "$dir"
    done
    if [ "$1" = open_items ] || [ "$1" = customers ]; then
        mkdir -p "fuzz/corpus/seed-$1"
        cp "$generated/$1.csv" "fuzz/corpus/seed-$1/"
        echo "fuzz/corpus/seed-$1"
    fi
}

printf '%-16s %12s %8s\n' target executions seconds
for target in $targets; do
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/corpus/$target.log"
    # shellcheck disable=SC2046
    cargo +nightly fuzz run -s none -O "$target" "fuzz/corpus/$target" $(seeds_of "$target") -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
    runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo '?')
    printf '%-16s %12s %8s\n' "$target" "$runs" "$seconds"
done
