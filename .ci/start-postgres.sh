#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the catalog tests; prints the SQLAlchemy URL.
# Usage: eval "$(bash .ci/start-postgres.sh)"   (exports RECSYS_TEST_POSTGRES_URL)
set -euo pipefail
PORT=${PGTEST_PORT:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$BIN" ]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
DIR=$(mktemp -d /tmp/taillift-pg.XXXXXX)
chown postgres "$DIR" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres taillift_test
echo "export RECSYS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/taillift_test"
echo "export PGTEST_DIR=$DIR"
