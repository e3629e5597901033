#!/bin/sh
# CI step for the network-namespace suite (test/net, docs/testing.md): installs what it needs
# (scripts/ci-net-deps.sh), builds the daemon, and runs `node scripts/run-tests.mjs net`
# under a hard time bound. Needs root, or passwordless sudo.
#
#   sh scripts/ci-net.sh                 # whole suite, at most NET_TIMEOUT_S (default 900) seconds
#   NET_SKIP_BUILD=1 sh scripts/ci-net.sh --only dht-20
#
# On timeout the whole process group gets SIGTERM (the topologies' signal hooks delete their
# namespaces and kill their daemons), SIGKILL 30 s later; namespaces left by a killed run are
# deleted at the end either way. Exit status: the suite's, or 124 on timeout.
set -eu
cd "$(dirname "$0")/.."

SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo -n --preserve-env'; fi

sh scripts/ci-net-deps.sh

if [ "${NET_SKIP_BUILD:-}" != 1 ]; then
  timeout 300 npm run build
fi

start=$(date +%s)
status=0
# timeout signals its whole process group: the runner, node --test, every test file and the
# daemons they started in namespaces
$SUDO timeout --kill-after=30 "${NET_TIMEOUT_S:-900}" node scripts/run-tests.mjs net "$@" || status=$?
echo "ci-net: net suite exited $status after $(( $(date +%s) - start )) s"

# Backstop: namespaces named <prefix>-<pid>-<random>-<node> whose test process is gone.
for ns in $($SUDO ip netns list | awk '{print $1}'); do
  pid=$(printf '%s\n' "$ns" | sed -n 's/^[a-z0-9]*-\([0-9][0-9]*\)-[a-z0-9]*-.*$/\1/p')
  if [ -n "$pid" ] && [ ! -d "/proc/$pid" ]; then
    $SUDO ip netns pids "$ns" 2>/dev/null | xargs -r $SUDO kill -9 2>/dev/null || true
    $SUDO ip netns del "$ns" 2>/dev/null && echo "ci-net: removed stale namespace $ns"
  fi
done
exit $status
