#!/usr/bin/env bash
# Runs every benchmark (capture, diff, mock, snapshot io) and prints one table.
#
#   bash benches/run-all.sh                 # the issues' sizes (about an hour, mostly capture)
#   bash benches/run-all.sh --quick         # small sizes, a few minutes: checks the benches run
#   bash benches/run-all.sh --only mock,diff
#
# Each bench's full output goes to target/bench-data/run-all/<bench>.log; the
# table is built from the lines the benches print as
# `BENCH|bench|metric|value|target|verdict` (and, for a bench that prints
# none, from the rows of its Markdown "### targets" table). Exit status: 0
# when every bench ran and met its targets, 1 otherwise.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

quick=0
only="capture,diff,mock,snapshot_io"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --only) only="${2:?--only needs a list, e.g. mock,diff}"; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument \`$1\` (try --help)" >&2; exit 2 ;;
    esac
    shift
done

# Arguments of each bench, full size or quick.
args_for() {
    if [ "$quick" = 1 ]; then
        case "$1" in
            capture) echo "--scale 0.02" ;;
            diff) echo "--records 100000 --reps 1" ;;
            mock) echo "--scales 10000,100000 --wiremock 2000,5000 --secs 2" ;;
            snapshot_io) echo "--records 100000" ;;
        esac
    else
        echo ""
    fi
}

logs=target/bench-data/run-all
mkdir -p "$logs"

{
    echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo),"\
        "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
    echo "toolchain: $(rustc --version)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$logs/machine.txt"

echo "building the benches (release profile)..." >&2
if ! cargo bench --no-run >"$logs/build.log" 2>&1; then
    tail -30 "$logs/build.log" >&2
    echo "error: the benches do not build (see $logs/build.log)" >&2
    exit 1
fi

failed=0
IFS=',' read -r -a benches <<<"$only"
for bench in "${benches[@]}"; do
    echo "running $bench $(args_for "$bench")..." >&2
    start=$(date +%s)
    # shellcheck disable=SC2046 # the arguments are meant to split
    cargo bench -q --bench "$bench" -- $(args_for "$bench") >"$logs/$bench.log" 2>"$logs/$bench.err"
    status=$?
    echo "$bench: exit $status after $(( $(date +%s) - start )) s" >&2
    if [ "$status" != 0 ]; then
        failed=1
        echo "BENCH|$bench|bench ran|exit $status (see $logs/$bench.err)||MISSED" >>"$logs/$bench.log"
    fi
done

echo
echo "results (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)):"
for bench in "${benches[@]}"; do
    log="$logs/$bench.log"
    [ -f "$log" ] || continue
    results=$(grep '^BENCH|' "$log" | grep -vc '^BENCH|[^|]*|bench ran|')
    if [ "$results" -gt 0 ]; then
        grep '^BENCH|' "$log"
    else
        # A bench without result lines: its Markdown targets table, if any.
        awk -v b="$bench" '
            /^### targets/ { t = 1; next }
            t && /^\| *check *\|/ { next }
            t && /^\|[- |]+\|$/ { next }
            t && /^\|/ {
                n = split($0, c, "|")
                what = c[2]; met = c[3]
                gsub(/^ +| +$/, "", what); gsub(/^ +| +$|\*/, "", met)
                printf "BENCH|%s|%s|||%s\n", b, what, (met == "yes" ? "ok" : "MISSED")
                next
            }
            t && NF && !/^\|/ { t = 0 }
        ' "$log"
        grep '^BENCH|[^|]*|bench ran|' "$log"
    fi
done | LC_ALL=C awk -F'|' '
    # Display width: UTF-8 continuation bytes take no column.
    function dw(s,  t, n) { t = s; n = gsub(/[\200-\277]/, "", t); return length(s) - n }
    function pad(s, w,  out) { out = s; while (dw(out) < w) out = out " "; return out }
    { rows[NR] = $0; for (i = 2; i <= 6; i++) if (dw($i) > w[i]) w[i] = dw($i) }
    END {
        h[2] = "bench"; h[3] = "metric"; h[4] = "value"; h[5] = "target"; h[6] = "verdict"
        for (i = 2; i <= 6; i++) if (dw(h[i]) > w[i]) w[i] = dw(h[i])
        line = ""
        for (i = 2; i <= 6; i++) line = line pad(h[i], w[i]) "  "
        sub(/ +$/, "", line)
        print line
        line = ""
        for (i = 2; i <= 6; i++) { s = ""; for (j = 0; j < w[i]; j++) s = s "-"; line = line s "  " }
        sub(/ +$/, "", line)
        print line
        for (r = 1; r <= NR; r++) {
            split(rows[r], c, "|")
            line = ""
            for (i = 2; i <= 6; i++) line = line pad(c[i], w[i]) "  "
            sub(/ +$/, "", line)
            print line
        }
    }' | tee "$logs/table.txt"

if grep -q 'MISSED *$' "$logs/table.txt"; then
    failed=1
fi
echo
echo "full outputs: $logs/<bench>.log; this table: $logs/table.txt"
exit "$failed"
