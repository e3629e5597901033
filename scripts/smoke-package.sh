#!/usr/bin/env bash
# The package as a user gets it: `npm pack` this checkout, install the tarball into an empty
# project (dependencies resolved from the registry by package.json's ranges, as for any
# user; the lock file is not in a tarball), then run the installed `libp2pd`: `--help`, a
# start with private sockets, one HTTP request, SIGTERM (exit 143, sockets removed); then
# `examples/typescript/echo.ts` against the installed `libp2pd/client`: two daemons spawned
# with it echo over a stream.
# Catches a tarball without `dist/` (the JS daemon's binary shipped broken exactly so) and
# a dependency range that no longer works. Every wait is bounded. Needs the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
chmod 700 "$work"
pid=
cleanup () {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Pack a copy of the source files without dist/ (as a fresh clone or a git dependency has
# them), so the tarball holds dist/ only because the prepare script built it.
echo "-- npm pack of the source files alone (the prepare script must build dist/)"
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$work/src"
ln -s "$PWD/node_modules" "$work/src/node_modules"
tarball=$(cd "$work/src" && npm pack --silent --pack-destination "$work" | tail -n 1)
# (a listing first: grep -q would close the pipe on tar, which pipefail reports)
tar tzf "$work/$tarball" > "$work/files"
for f in dist/src/cli/main.js dist/libp2pd.mjs; do
  if ! grep -q "^package/$f\$" "$work/files"; then
    echo "FAIL: $tarball has no $f" >&2
    exit 1
  fi
done

echo "-- npm install $tarball into an empty project"
mkdir "$work/app"
(cd "$work/app" && npm init -y > /dev/null && timeout 600 npm install --no-audit --no-fund --loglevel=error "$work/$tarball")
bin="$work/app/node_modules/.bin/libp2pd"

echo "-- libp2pd --help"
help=$(timeout 60 "$bin" --help)
grep -q '^Usage of libp2pd' <<< "$help" || { echo "FAIL: --help printed no usage" >&2; exit 1; }

echo "-- libp2pd starts, answers GET /api/daemon/version, and stops on SIGTERM"
"$bin" -listen "/unix$work/p2pd.sock" -httpListen "/unix$work/http.sock" -hostAddrs /ip4/127.0.0.1/tcp/0 > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  grep -q '^HTTP API:' "$work/out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out" >&2; echo "FAIL: the daemon exited before its banner" >&2; exit 1; }
  sleep 0.1
done
grep -q '^HTTP API:' "$work/out" || { cat "$work/out" >&2; echo "FAIL: no banner within 30 s" >&2; exit 1; }
timeout 30 node -e '
  const http = require("node:http")
  http.get({ socketPath: process.argv[1], path: "/api/daemon/version", timeout: 10000 }, (res) => {
    let body = ""
    res.on("data", (c) => { body += c })
    res.on("end", () => {
      const v = JSON.parse(body)
      if (res.statusCode !== 200 || v.name !== "libp2pd") { console.error("FAIL:", res.statusCode, body); process.exit(1) }
      console.log("version:", body)
    })
  }).on("error", (err) => { console.error("FAIL:", err.message); process.exit(1) })
' "$work/http.sock"
kill -TERM "$pid"
status=0
timeout 30 tail --pid="$pid" -f /dev/null || { echo "FAIL: still running 30 s after SIGTERM" >&2; exit 1; }
wait "$pid" || status=$?
pid=
# 143 = 128 + SIGTERM, the documented clean stop (docs/operations.md, "Exit codes")
[ "$status" -eq 143 ] || { cat "$work/out" >&2; echo "FAIL: exit status $status after SIGTERM (expected 143)" >&2; exit 1; }
if [ -e "$work/p2pd.sock" ] || [ -e "$work/http.sock" ]; then
  echo "FAIL: sockets left behind after SIGTERM" >&2
  exit 1
fi

echo "-- libp2pd/client from the installed package: the client guide's echo example, run as a user's program"
# the example file itself (TypeScript, through this checkout's tsx), resolving libp2pd/client
# from the installed package: two spawned daemons echo over a stream
# (.mts: the empty project is CommonJS, and the example uses top-level await)
cp examples/typescript/echo.ts "$work/app/echo.mts"
tsx="$PWD/node_modules/tsx/dist/esm/index.mjs"
out=$(cd "$work/app" && timeout 120 node --import "$tsx" echo.mts)
echo "$out"
[ "$out" = 'echoed: hello, libp2p' ] || { echo "FAIL: the echo example printed something else" >&2; exit 1; }
echo "-- package smoke passed"
