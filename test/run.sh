#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, builds, then runs every tier with
# node's test runner. Integration and end-to-end tests create their own namespaces, registry
# and throwaway systemd; nothing here touches the host's network or cgroups.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
npm run build --silent
exec node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" "${@:-dist/test/}"
