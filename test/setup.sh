#!/usr/bin/env bash
# Installs what berth's tests and demo need on a fresh Debian 12 machine. Idempotent and quick
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(crun netavark aardvark-dns docker-registry skopeo umoci busybox-static passt uidmap
  catatonit golang-github-containers-common podman dbus dbus-user-session systemd apache2-utils
  iproute2 iptables nftables zstd curl util-linux hyperfine attr time openssl python3 strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >/dev/null
fi
# An unprivileged user for the rootless tests (test/integration/rootless), with Podman's usual
# subordinate id ranges (useradd allocates them from /etc/login.defs SUB_UID_MIN, 100000 here;
# older shadow does not). Idempotent: the user and the ranges are added only when missing.
if ! getent passwd berthtest >/dev/null; then
  useradd --create-home --shell /bin/sh berthtest
fi
grep -q '^berthtest:' /etc/subuid 2>/dev/null || usermod --add-subuids 200000-265535 berthtest
grep -q '^berthtest:' /etc/subgid 2>/dev/null || usermod --add-subgids 200000-265535 berthtest
