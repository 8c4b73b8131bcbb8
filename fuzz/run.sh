#!/usr/bin/env bash
# Build slotbox's fuzz targets with libFuzzer and coverage instrumentation on stable Rust, then
# run each for FUZZ_SECONDS (default 60) and print executions and coverage per target.
# `make fuzz` runs this. Exits non-zero if any target found a crash, panic, hang (> 10 s for
# one input) or over-large allocation; its input is saved in fuzz/artifacts/<target>/ and
# can be replayed with `fuzz/target/<triple>/release/<target> <file>`.
#
#   FUZZ_SECONDS=600 fuzz/run.sh                 # longer runs
#   FUZZ_TARGETS="restore snapshot" fuzz/run.sh  # some targets only
#
# Only stable features are used: `-Cpasses=sancov-module` and LLVM's sanitizer-coverage
# options give libFuzzer its edge counters, value profile and compare hooks; libfuzzer-sys
# (crates.io) builds libFuzzer itself with the system C++ compiler. No sanitizer (that needs
# nightly): safe Rust panics on the bugs ASan would catch, and `CappedAlloc` (src/lib.rs)
# turns an allocation sized from an untrusted length into a crash.
set -euo pipefail
cd "$(dirname "$0")"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-$(cd fuzz_targets && ls -- *.rs | sed 's/\.rs$//')}
HOST=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="$PWD/target"
# --target keeps these flags off build scripts and proc macros (they would not link).
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-sanitizer-coverage-stack-depth \
 -Cdebug-assertions -Coverflow-checks --cfg fuzzing"

bins=()
for t in $TARGETS; do bins+=(--bin "$t"); done
# The main workspace's lock pins every dependency the decoders ship with (see Cargo.toml).
cp ../Cargo.lock Cargo.lock
cargo build --release --target "$HOST" "${bins[@]}"

summary=()
failed=()
for t in $TARGETS; do
    work="target/corpus/$t"
    mkdir -p "$work" "artifacts/$t" target/logs
    log="target/logs/$t.log"
    echo "== $t: ${FUZZ_SECONDS}s (log: fuzz/$log)"
    # New inputs go to the work corpus (the first directory); corpus/$t, the checked-in
    # seeds, is only read.
    dict=()
    [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
    status=ok
    if ! "target/$HOST/release/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -use_value_profile=1 "${dict[@]}" -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        "$work" "corpus/$t" >"$log" 2>&1; then
        status=FAILED
        failed+=("$t")
        grep -a -E -A30 "panicked|ERROR: libFuzzer|==slotbox-fuzz==|deadly signal|Test unit written" "$log" | head -60 || tail -40 "$log"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # libFuzzer's last status line: "#N DONE cov: C ft: F corp: U/S ..."
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    summary+=("$(printf '%-16s %-7s %12s %8s %9s %8s' "$t" "$status" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
done

echo
echo "fuzz summary (${FUZZ_SECONDS}s per target; cov = edges covered, ft = features, corpus = inputs kept)"
printf '%-16s %-7s %12s %8s %9s %8s\n' target status executions cov ft corpus
printf '%s\n' "${summary[@]}"
total=$(wc -w <<<"$TARGETS")
echo "fuzz: $((total - ${#failed[@]})) passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
