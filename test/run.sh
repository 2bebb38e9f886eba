#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, builds, then runs every tier with
# node's test runner. Integration and end-to-end tests create their own namespaces, registry
# and throwaway systemd; nothing here touches the host's network or cgroups.
# Arguments (optional) narrow the run to folders or files under dist/test, e.g. `npm test -- unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
# The rootless tests run berth as the unprivileged user berthtest (made by setup.sh), who must be
# able to read this checkout; a clone under a private folder (/root/…) is copied where it can.
if ! runuser -u berthtest -- test -r "$PWD/package.json" 2>/dev/null; then
  copy=/var/tmp/berth-checkout-for-tests
  echo "test: berthtest cannot read $PWD (a parent folder is private); running from a copy in $copy" >&2
  rm -rf "$copy" && mkdir -p "$copy" && cp -a . "$copy/" && chmod -R a+rX "$copy"
  cd "$copy" && exec bash test/run.sh "$@"
fi
npm run build --silent
# Name the *.test.js files explicitly: given a folder, node 20 would also run every support
# module below dist/test/ as a test file.
roots=()
for a in "$@"; do roots+=("dist/test/${a#dist/test/}"); done
[ ${#roots[@]} -gt 0 ] || roots=(dist/test)
mapfile -t files < <(find "${roots[@]}" -name '*.test.js' -type f | sort)
[ ${#files[@]} -gt 0 ] || { echo "test: no test files under ${roots[*]}" >&2; exit 1; }
exec node --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" "${files[@]}"
