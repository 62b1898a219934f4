#!/usr/bin/env bash
# A throw-away PostgreSQL cluster (Debian's `postgresql` package) in a
# temporary directory on a free loopback port, and the diameter-cli test
# that runs two `diameter serve` instances on it (cli/tests/postgres.rs).
# Called by scripts/test.sh; runs on its own too:
#
#   bash scripts/postgres-test.sh
#
# Installing the package needs root; as root the cluster runs as the
# `postgres` user. The cluster is stopped and removed on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  [ "$(id -u)" = 0 ] || { echo "PostgreSQL is missing: run 'sudo apt-get install postgresql' first" >&2; exit 1; }
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/diameter-pg.XXXXXX")
chmod 755 "$dir"
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
[ "$(id -u)" = 0 ] && chown postgres "$dir"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
# The free port is free when asked, not necessarily when the server binds
# it (another run may take it in between): a few tries on fresh ports.
started=
for attempt in 1 2 3 4 5; do
  port=$(free_port)
  if as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null; then
    started=1
    break
  fi
  echo "PostgreSQL did not start on port $port (try $attempt of 5), trying another port" >&2
done
[ -n "$started" ] || { echo "FAIL: PostgreSQL did not start; its log:" >&2; cat "$dir/log" >&2; exit 1; }
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"

DIAMETER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres" \
  DIAMETER_TEST_POSTGRES_THROWAWAY=1 \
  cargo test -p diameter-cli --features postgres --test postgres -- --nocapture
