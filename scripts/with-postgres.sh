#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server on loopback, then
# removes the server. Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# The command sees TEST_DATABASE_URL pointing at an empty database.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "PostgreSQL server binaries not found: install the Debian package postgresql" >&2
  exit 1
fi
port=${PGTEST_PORT:-54329}
datadir=$(mktemp -d /tmp/grants-pg.XXXXXX)

as_owner() {
  # initdb refuses to run as root, so the server runs as the postgres user.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$datadir"; fi

cleanup() {
  as_owner "$bindir/pg_ctl" -D "$datadir" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap cleanup EXIT

as_owner "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_owner "$bindir/pg_ctl" -D "$datadir" -w -l "$datadir/server.log" \
  -o "-h 127.0.0.1 -p $port -k $datadir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres grants_test

export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/grants_test"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
