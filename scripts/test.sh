#!/usr/bin/env bash
# The test command: builds walbridge and runs every test (decoder, engine, and integration
# tests against real PostgreSQL 15 clusters that this script creates and removes).
# Installs postgresql-15 and libpq-dev first when they are missing.
#
# Without arguments the suites run in three rounds: first everything else, in parallel, then the heavy ones
# (backfills of 100,000s of rows, kills and restarts, network faults, pause and metrics, cut-overs, the demo) one at a
# time, since several of them check what a bridge does within a second or two, then the differential test's short
# form on fixed seeds, 1-10, and the regression seeds: 38 (a table requested again while a chunk of it was read again;
# the next table's copy took that chunk's key), 11 (a change a foreign key refused during the backfill, held for it,
# left a target keyed on a code with the row's old code) and 11 with the legacy-fk shapes alone (a DEFERRABLE target
# key refused a child of a parent not copied yet; a child read back for a TOAST value took a parent still to come)
# and 6 with the archive shapes alone (a TRUNCATE emptied a table inheriting from a target).
# scripts/differential.sh runs the differential test on its own, and its --long form. With arguments, one
# `swift test` gets them (e.g. scripts/test.sh --filter BackfillTests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
    exec scripts/with-clusters.sh swift test "$@"
fi
heavy='BackfillTests|CrashSafetyTests|RestartTests|OperationsTests|MetricsTests|DemoTests|NetworkFaultTests|TrustTests|CutoverTests|ColumnGroupTests'
exec scripts/with-clusters.sh bash -c "swift build --build-tests && swift test --skip-build --skip '$heavy' && swift test --skip-build --no-parallel --filter '$heavy' && swift build --product differential && .build/debug/differential --walbridge .build/debug/walbridge --seed 1 --cases 10 && .build/debug/differential --walbridge .build/debug/walbridge --seed 38 --cases 1 && .build/debug/differential --walbridge .build/debug/walbridge --seed 11 --cases 1 && WALBRIDGE_DIFF_SHAPES=legacy-fk .build/debug/differential --walbridge .build/debug/walbridge --seed 11 --cases 1 && WALBRIDGE_DIFF_SHAPES=archive .build/debug/differential --walbridge .build/debug/walbridge --seed 6 --cases 1"
