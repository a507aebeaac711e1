#!/usr/bin/env bash
# Notebook outputs must be the same on every CPU. nbval re-runs every notebook and compares its
# outputs with the stored ones: `make test` under the OpenBLAS kernel this CPU gets, and here
# under OpenBLAS's oldest kernel, Prescott (SSE3, no FMA: it sums in another order, so the last
# bits of a matrix product differ), and with numpy's wide SIMD loops turned off, one thread
# each. A stored number at the level of rounding noise fails at least one of these runs. The
# two runs go side by side (the machines here have 2 cores).
#
# Usage: scripts/test_portable.sh [python]   (make test-portable calls it with .venv's python)
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
LOGS=$(mktemp -d)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || echo "")

needs() {  # the instruction set a kernel needs; forcing it on a CPU without it would crash
    case "$1" in
        SkylakeX) echo avx512f ;;
        Haswell | Zen) echo avx2 ;;
        *) echo "" ;;
    esac
}

# The kernel OpenBLAS picks by itself here is the one `make test`'s nbval run used: not again.
native=$("$PY" -c 'from threadpoolctl import threadpool_info as t
print(next((i.get("architecture") or "" for i in t() if i.get("internal_api") == "openblas"), ""))' \
    2>/dev/null || true)

# name|environment, one configuration per line
configs=()
# Prescott is the oldest kernel (SSE3, no FMA): its sums differ most from a current CPU's.
for kernel in Prescott; do
    need=$(needs "$kernel")
    if [ -n "$need" ] && ! grep -qw "$need" <<<"$flags"; then
        echo "=== OPENBLAS_CORETYPE=$kernel: not run, this CPU has no $need"
        continue
    fi
    if [ "${kernel,,}" = "${native,,}" ]; then
        echo "=== OPENBLAS_CORETYPE=$kernel: not run again, it is this CPU's own (make test ran it)"
        continue
    fi
    configs+=("OPENBLAS_CORETYPE=$kernel|OPENBLAS_CORETYPE=$kernel")
done
configs+=("numpy SIMD off|NPY_DISABLE_CPU_FEATURES=X86_V3 X86_V4 AVX512_ICL AVX512_SPR")

run() {  # run NAME ENV: nbval over book/ in that environment, one thread, log to a file
    local name=$1 assignment=$2 log="$LOGS/$(echo "$1" | tr -c 'A-Za-z0-9' _).log"
    env "$assignment" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        "$PY" -m pytest book --nbval --nbval-sanitize-with tests/sanitize.cfg -q \
        -p no:cacheprovider >"$log" 2>&1
    echo $? >"$log.rc"
}

pids=()
for c in "${configs[@]}"; do
    run "${c%%|*}" "${c#*|}" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

failed=()
for c in "${configs[@]}"; do
    name=${c%%|*}
    log="$LOGS/$(echo "$name" | tr -c 'A-Za-z0-9' _).log"
    echo "=== nbval, $name, one thread: $(tail -n 1 "$log")"
    if [ "$(cat "$log.rc")" != 0 ]; then
        failed+=("$name")
        grep -E "^(FAILED|E  )|Cell [0-9]+:|^  [-+] " "$log" | head -40
    fi
done
rm -rf "$LOGS"

if [ ${#failed[@]} -gt 0 ]; then
    echo "portable check FAILED under: ${failed[*]}"
    exit 1
fi
if [ ${#configs[@]} -lt 2 ]; then
    echo "portable check ran under only ${#configs[@]} configurations (need 2)" >&2
    exit 1
fi
echo "portable check passed under ${#configs[@]} configurations (and ${native:-the native kernel} in make test)"
