#!/bin/bash
# make shard-sim: the ledger's posting path in today's layout (one clearing
# row and one fees row for every credit) and in a sharded one (partitions
# standing in for shards, each with its own system sub-balances), measured
# with pgbench beside the machine's commit ceiling (one small INSERT per
# transaction), synchronous_commit on, on a throwaway PostgreSQL cluster
# of its own that it removes at the end (docs/scale.md).  Not part of
# make test.
#
# Environment: SIM_SECONDS (each pgbench run, default 6), SIM_CLIENTS
# (the concurrency of the sharded runs, default 32), SIM_SHARDS (the most
# shards, default 64), TZ_PGBIN.
set -euo pipefail
PGBIN=${TZ_PGBIN:-/usr/lib/postgresql/15/bin}
SECONDS_EACH=${SIM_SECONDS:-6}
CLIENTS=${SIM_CLIENTS:-32}
MAXSHARDS=${SIM_SHARDS:-64}
CREATORS=1000
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=$(mktemp -d /tmp/tz-shard-sim.XXXXXX)
OUT=${SIM_OUT:-$(cd "$HERE/../.." && pwd)/build/shard-sim.txt}
# initdb refuses root: run PostgreSQL as the stack's user when root
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
  RUNAS=(runuser -u "${TZ_SIM_USER:-tipzed}" --)
  chown "${TZ_SIM_USER:-tipzed}:" "$DIR"
fi
as() { (cd / && "${RUNAS[@]}" "$@"); }

cleanup() {
  as "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

as "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
max_connections = 120
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
CONF
as "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w -t 60 start >/dev/null
PSQL=(psql -X -q -h "$DIR" -U postgres -d postgres)
PGOPTIONS="-c client_min_messages=warning" as "${PSQL[@]}" -v creators=$CREATORS \
  -v shards="$MAXSHARDS" -f "$HERE/shard_sim.sql" >/dev/null

cat >"$DIR/ceiling.pgbench" <<'SQL'
INSERT INTO ceiling.rows (v) VALUES (1);
SQL
cat >"$DIR/today.pgbench" <<SQL
\set c random(1, $CREATORS)
\set a random(100, 100000)
SELECT today.credit(:c, :a);
SQL
for n in $(seq 1 "$MAXSHARDS"); do
  cat >"$DIR/sharded$n.pgbench" <<SQL
\set c random(1, $CREATORS)
\set a random(100, 100000)
SELECT sharded.credit(:c, :a, $n);
SQL
done

# run NAME SCRIPT CLIENTS: transactions per second (pgbench, no vacuum)
run() {
  local tps
  tps=$(as pgbench -n -h "$DIR" -U postgres -c "$3" -j 2 -T "$SECONDS_EACH" -f "$DIR/$2.pgbench" \
          postgres 2>&1 | sed -n 's/^tps = \([0-9.]*\) (without initial.*/\1/p')
  printf '%-22s %8s %8.0f\n' "$1" "$3" "${tps:-0}" | tee -a "$OUT"
}

mkdir -p "$(dirname "$OUT")"
{
  echo "shard simulation, $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL $(as "$PGBIN/postgres" -V | awk '{print $3}'), ${SECONDS_EACH}s per run, synchronous_commit on"
  printf '%-22s %8s %8s\n' layout clients tps
} | tee "$OUT"
for c in 1 8 "$CLIENTS"; do run "ceiling (1 INSERT)" ceiling "$c"; done
for c in 1 8 "$CLIENTS"; do run "today (1 shard)" today "$c"; done
for n in 2 4 8 16 "$MAXSHARDS"; do
  [ "$n" -le "$MAXSHARDS" ] || continue
  run "sharded, $n shards" "sharded$n" "$CLIENTS"
done
run "sharded, $MAXSHARDS shards" "sharded$MAXSHARDS" 8
echo "books: today $(as "${PSQL[@]}" -At -c 'SELECT today.check()'), sharded $(as "${PSQL[@]}" -At -c 'SELECT sharded.check()')" | tee -a "$OUT"
echo "written to $OUT"
