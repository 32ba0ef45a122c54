#!/usr/bin/env bash
# The differential test: generated legacy schemas, mappings and concurrent workloads with bridge kills, each
# compared with an oracle that evaluates the mapping by SQL over the source's final state. Failures are shrunk
# to a small SQL reproduction (in /tmp/difftest-<seed>/).
#
#   scripts/differential.sh                     # short form: under 3 minutes, 10 small cases
#   scripts/differential.sh --seed 1234         # exactly one case, reproducibly
#   scripts/differential.sh --cases 20          # 20 cases from a time-based base seed
#   scripts/differential.sh --long --minutes 30 # growing cases, more kills, until the time is up
#   scripts/differential.sh --cutover --minutes 60  # the cut-over's long form: cutover, rollback, abort, kills
#   scripts/differential.sh --walbridge PATH    # test that binary (only the test itself is built)
#   WALBRIDGE_DIFF_SHAPES=inherit,split-fk scripts/differential.sh   # only these shape families (ShapeGenerator.Family)
#
# Builds with `swift build` (scratch path from WALBRIDGE_DIFF_SCRATCH, default .build) and runs under
# scripts/with-clusters.sh, which starts and removes the throwaway source and target clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

scratch=${WALBRIDGE_DIFF_SCRATCH:-.build}
walbridge=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --walbridge) walbridge=$2; shift 2 ;;
        --seed|--cases|--minutes|--size|--out) args+=("$1" "$2"); shift 2 ;;
        --long|--cutover|--no-shrink|--keep|--print) args+=("$1"); shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "differential.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

build=(swift build --scratch-path "$scratch")
if [ -z "$walbridge" ]; then
    "${build[@]}" --product walbridge
    walbridge="$scratch/debug/walbridge"
fi
"${build[@]}" --product differential
exec scripts/with-clusters.sh "$scratch/debug/differential" --walbridge "$walbridge" ${args[@]+"${args[@]}"}
