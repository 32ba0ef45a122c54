#!/usr/bin/env bash
# The test command: builds walbridge and runs every test (decoder, engine, and integration
# tests against real PostgreSQL 15 clusters that this script creates and removes).
# Installs postgresql-15 and libpq-dev first when they are missing.
#
# Without arguments the suites run in two rounds: first everything else, in parallel, then the heavy
# ones (backfills of 100,000s of rows, kills and restarts, pause and metrics, the demo) one at a time,
# since several of them check what a bridge does within a second or two. With arguments, one `swift test`
# gets them (e.g. scripts/test.sh --filter BackfillTests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
    exec scripts/with-clusters.sh swift test "$@"
fi
heavy='BackfillTests|CrashSafetyTests|RestartTests|OperationsTests|MetricsTests|DemoTests'
exec scripts/with-clusters.sh bash -c "swift build --build-tests && swift test --skip-build --skip '$heavy' && swift test --skip-build --no-parallel --filter '$heavy'"
