#!/usr/bin/env bash
# `npm run demo`: berth end to end, from a Quadlet file to a container serving a page.
#
#   installs what is missing (test/setup.sh) and builds berth
#   builds a tiny image (busybox httpd + a banner page) as an OCI layout
#   starts a registry on 127.0.0.1:5000 and pushes the image to it
#   installs the generator, drops units/examples/web.container into /etc/containers/systemd
#   systemctl daemon-reload && systemctl start web; berth ps; curl http://localhost:8080; journal
#   stops and removes everything it made
#
# Under the machine's systemd when systemd is PID 1; otherwise under a throwaway systemd
# (units/examples/sysbox-run.mjs: the test harness's own code, its own namespaces, nothing left behind).
#
# Network switch: BERTH_DEMO_NETWORK=publish (default: PublishPort=8080:80, a private network) or
# BERTH_DEMO_NETWORK=host (Network=host, httpd serving on 8080 itself).
# BERTH_DEMO_IMAGE_DIR: where the image layout is built (default .cache/demo-image).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
network=${BERTH_DEMO_NETWORK:-publish}
case $network in host|publish) ;; *) echo "demo: BERTH_DEMO_NETWORK must be host or publish, not '$network'" >&2; exit 2;; esac
image_dir=${BERTH_DEMO_IMAGE_DIR:-$repo/.cache/demo-image}
registry=127.0.0.1:5000
image=$registry/berth-demo/web:latest
berth=$repo/bin/berth.js

if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' off=$'\033[0m'; else bold='' red='' off=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
step=''
fail() { printf '\n%sdemo FAILED at step "%s"%s: %s\n' "$red" "$step" "$off" "$*" >&2; exit 1; }

build_image() {
  step='build the demo image'
  say "$step ($image_dir)"
  rm -rf "$image_dir"; mkdir -p "$image_dir"
  local layout=$image_dir/layout bundle=$image_dir/bundle
  umoci init --layout "$layout"
  umoci new --image "$layout:latest"
  umoci unpack --image "$layout:latest" "$bundle" >/dev/null
  local r=$bundle/rootfs
  mkdir -p "$r/bin" "$r/www" "$r/etc" "$r/tmp" "$r/data"
  cp /bin/busybox "$r/bin/busybox"
  for applet in sh httpd wget head sleep cat echo ls kill ps; do ln -sf busybox "$r/bin/$applet"; done
  # PID 1 in the container: busybox httpd alone ignores SIGTERM as PID 1, so stop would wait for the timeout
  cat > "$r/bin/serve" <<'SH'
#!/bin/sh
trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT
httpd -f -v -p "${1:-80}" -h /www &
pid=$!
wait "$pid"
SH
  chmod 755 "$r/bin/serve"
  printf '<h1>Hello from berth</h1>\n<p>busybox httpd in a container, started by systemd from web.container.</p>\n' > "$r/www/index.html"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  umoci repack --image "$layout:latest" "$bundle" >/dev/null
  umoci config --image "$layout:latest" --config.entrypoint /bin/serve --config.cmd 80 \
    --config.exposedports 80/tcp --config.workingdir /www --config.label org.opencontainers.image.title=berth-demo >/dev/null
  rm -rf "$bundle"
  echo "image layout: $layout:latest"
}

# --- everything below runs under a systemd that is PID 1 (the machine's, or the throwaway one) ---
made_registry_conf='' installed_generator='' registry_dir='' dropped_unit=''
cleanup() {
  local rc=$?
  trap - EXIT
  say "clean up"
  [ -z "$dropped_unit" ] || systemctl stop web.service 2>/dev/null || true
  [ -z "$dropped_unit" ] || rm -f /etc/containers/systemd/web.container
  rm -f /run/systemd/system/web.service.d/50-berth-demo.conf
  rmdir /run/systemd/system/web.service.d 2>/dev/null || true
  systemctl daemon-reload 2>/dev/null || true
  node "$berth" rmi -f "$image" >/dev/null 2>&1 || true
  systemctl stop berth-demo-registry.service 2>/dev/null || true
  [ -z "$registry_dir" ] || rm -rf "$registry_dir"
  [ -z "$made_registry_conf" ] || rm -f "$made_registry_conf"
  [ -z "$installed_generator" ] || "$repo/generators/install" --uninstall >/dev/null || true
  echo "done"
  exit "$rc"
}

run_under_systemd() {
  trap cleanup EXIT
  [ -x "$berth" ] && [ -f "$repo/dist/src/cli/main.js" ] || { step='build berth'; fail "berth is not built ($berth)"; }
  [ -f "$image_dir/layout/index.json" ] || build_image

  step='start a registry on 127.0.0.1:5000'
  say "$step"
  for url in "http://$registry/v2/" http://127.0.0.1:8080/; do
    if curl -sS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      fail "something already answers on ${url%/v2/}; the demo needs 127.0.0.1:5000 and :8080 free"
    fi
  done
  registry_dir=$(mktemp -d /var/tmp/berth-demo-registry.XXXXXX)
  printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: %s\n' "$registry_dir" "$registry" > "$registry_dir/config.yml"
  systemd-run --quiet --unit=berth-demo-registry --collect --property=Type=exec docker-registry serve "$registry_dir/config.yml"
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://$registry/v2/" 2>/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null "http://$registry/v2/" || fail "the registry did not answer; journalctl -u berth-demo-registry: $(journalctl --no-pager -o cat -u berth-demo-registry | tail -5)"
  # the engine learns that this registry speaks plain http through registries.conf
  printf 'unqualified-search-registries = []\n\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry" > "$registry_dir/registries.conf"
  mkdir -p /etc/containers/registries.conf.d
  made_registry_conf=/etc/containers/registries.conf.d/50-berth-demo.conf
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry" > "$made_registry_conf"

  step='push the image'
  say "$step: $image"
  skopeo copy --quiet --dest-tls-verify=false "oci:$image_dir/layout:latest" "docker://$image"

  step='install the generator'
  say "$step (generators/install)"
  [ -x "$repo/generators/install" ] || fail "generators/install is missing (the generator's install command has not landed yet)"
  [ -e /usr/local/lib/systemd/system-generators/berth-generator ] || installed_generator=yes
  "$repo/generators/install" --no-build || fail "generators/install failed"
  cat /usr/local/lib/systemd/system-generators/berth-generator

  step='drop web.container into /etc/containers/systemd'
  say "$step (network: $network)"
  mkdir -p /etc/containers/systemd
  [ ! -e /etc/containers/systemd/web.container ] || fail "/etc/containers/systemd/web.container already exists; not overwriting it"
  dropped_unit=yes
  if [ "$network" = host ]; then
    sed -e 's/^PublishPort=8080:80$/#&/' -e 's/^#Network=host$/Network=host/' -e 's/^#Exec=8080$/Exec=8080/' \
      "$repo/units/examples/web.container" > /etc/containers/systemd/web.container
  else
    cp "$repo/units/examples/web.container" /etc/containers/systemd/web.container
  fi
  mkdir -p /run/systemd/system/web.service.d
  printf '[Service]\nEnvironment=CONTAINERS_REGISTRIES_CONF=%s\n' "$registry_dir/registries.conf" > /run/systemd/system/web.service.d/50-berth-demo.conf
  grep -v '^#' /etc/containers/systemd/web.container | grep .

  step='systemctl daemon-reload'
  say "$step"
  systemctl daemon-reload
  if ! systemctl cat web.service >/dev/null 2>&1; then
    echo "-- the generator, run by hand (--dryrun):"
    /usr/local/lib/systemd/system-generators/berth-generator --dryrun 2>&1 | tail -n 20 || true
    fail "systemd has no web.service after daemon-reload: the generator did not produce it"
  fi
  systemctl cat web.service | grep -E '^(# /|ExecStart=|SourcePath=)'

  step='systemctl start web'
  say "$step"
  if ! systemctl start web.service; then
    systemctl --no-pager --full --lines=0 status web.service || true
    echo "-- journalctl -u web.service:"
    journalctl --no-pager -o cat -u web.service | tail -n 20
    fail "web.service did not start (the engine: '$berth run'); its journal is above"
  fi
  systemctl --no-pager status web.service | head -n 12 || true

  step='berth ps'
  say "$step"
  node "$berth" ps || fail "'berth ps' failed"

  step='curl http://localhost:8080'
  say "$step"
  local page=''
  for _ in $(seq 1 50); do page=$(curl -fsS http://localhost:8080/ 2>/dev/null) && break; sleep 0.1; done
  [ -n "$page" ] || fail "nothing answers on http://localhost:8080 (network mode: $network)"
  echo "$page"
  grep -q 'Hello from berth' <<<"$page" || fail "unexpected page: $page"

  step='journalctl -u web'
  say "$step"
  # the container's output (httpd -v logs each request) reaches journald asynchronously
  for _ in $(seq 1 30); do
    journalctl --sync 2>/dev/null || true
    journalctl --no-pager -o cat -u web.service | grep -q 'response:' && break
    sleep 0.1
  done
  journalctl --no-pager -u web.service | tail -n 15

  step='systemctl stop web'
  say "$step"
  systemctl stop web.service
  systemctl is-active web.service || true
  say "demo OK"
}

if [ "${1:-}" = --under-systemd ]; then
  run_under_systemd
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it starts system services)" >&2; exit 1; }
step='install what is missing (test/setup.sh)'; say "$step"; bash test/setup.sh
step='build berth'; say "$step"; npm run build --silent || fail "the build failed"
build_image
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  say "systemd is PID 1 here: using the machine's systemd"
  exec bash "$repo/units/examples/demo.sh" --under-systemd
fi
say "systemd is not PID 1 here: booting a throwaway systemd (own namespaces, overlay root)"
exec node "$repo/units/examples/sysbox-run.mjs" --name demo --env "BERTH_DEMO_NETWORK=$network" --env "BERTH_DEMO_IMAGE_DIR=$image_dir" -- \
  bash "$repo/units/examples/demo.sh" --under-systemd
