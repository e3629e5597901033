#!/bin/sh
# Installs what the network-namespace test suite (test/net, `node scripts/run-tests.mjs net`)
# needs on a Debian/Ubuntu runner: ip + tc (iproute2), iptables, ethtool, and python3 for
# the link-delay wire. Idempotent: returns at once when everything is already there.
# Needs root (or passwordless sudo). Usage: sh scripts/ci-net-deps.sh
set -eu

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO='sudo -n'; else
    echo 'ci-net-deps: needs root (or sudo) to install packages and run namespace tests' >&2
    exit 1
  fi
fi

# command -> Debian package providing it
missing=''
need () {
  command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need ip iproute2
need tc iproute2
need iptables iptables
need ethtool ethtool
need python3 python3-minimal

if [ -n "$missing" ]; then
  # Deduplicate (ip and tc share a package).
  pkgs=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
  echo "ci-net-deps: installing $pkgs"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

# iptables defaults to the nf_tables backend; fall back to legacy xtables on kernels without it.
if ! $SUDO iptables -w 5 -L -n >/dev/null 2>&1; then
  if command -v iptables-legacy >/dev/null 2>&1 && $SUDO iptables-legacy -L -n >/dev/null 2>&1; then
    $SUDO update-alternatives --set iptables "$(command -v iptables-legacy)"
  else
    echo 'ci-net-deps: iptables does not work on this kernel' >&2
    exit 1
  fi
fi

# Network namespaces must be creatable (some container runtimes forbid it).
probe="cinetdeps-$$"
if ! $SUDO ip netns add "$probe" 2>/dev/null; then
  echo 'ci-net-deps: cannot create network namespaces here (needs CAP_SYS_ADMIN)' >&2
  exit 1
fi
$SUDO ip netns del "$probe"
echo 'ci-net-deps: ip, tc, iptables, ethtool, python3 ready'
