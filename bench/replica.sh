#!/usr/bin/env bash
# A streaming replica of this machine's PostgreSQL (127.0.0.1:5432), for the
# read replica router (config/replica.py, docs/scaling.md). Loopback only.
#
#   bench/replica.sh start    # pg_basebackup -R into its own data directory, start it on 5433
#   bench/replica.sh stop     # stop it and remove its data directory
#   bench/replica.sh status   # "in recovery" when it is up and replicating
#
# Idempotent: starting a running replica or stopping a stopped one does
# nothing. No replication slot: a stopped replica must not make the primary
# keep its WAL forever, so each start takes a fresh copy (seconds for a
# gigabyte on loopback). It lets the primary accept replication connections from
# 127.0.0.1 (a line in its pg_hba.conf, then a reload) when it does not.
set -euo pipefail
version=$(ls /etc/postgresql | head -n 1)
bin=/usr/lib/postgresql/$version/bin
port=${REPLICA_PORT:-5433}
data=${REPLICA_DATA:-/var/lib/postgresql/replica-$version-$port}
hba=/etc/postgresql/$version/main/pg_hba.conf
rule="host replication all 127.0.0.1/32 trust"
as_postgres() { runuser -u postgres -- "$@"; }
primary_psql() { psql -qAt -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "$1"; }

case "${1:-}" in
start)
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "replica already running on 127.0.0.1:$port"
    exit 0
  fi
  if ! grep -qxF "$rule" "$hba"; then
    echo "$rule" >>"$hba"
    primary_psql "SELECT pg_reload_conf()" >/dev/null
  fi
  rm -rf "$data"
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$data" -R -X stream -c fast
  # Debian keeps the primary's configuration outside its data directory:
  # the replica gets its own, loopback only.
  as_postgres tee "$data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '/tmp'
hot_standby = on
hot_standby_feedback = on
EOF
  as_postgres tee "$data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null
  echo "replica running on 127.0.0.1:$port ($data)"
  ;;
stop)
  if [ -f "$data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  rm -rf "$data"
  echo "replica stopped"
  ;;
status)
  if pg_isready -q -h 127.0.0.1 -p "$port" &&
    [ "$(psql -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SELECT pg_is_in_recovery()')" = t ]; then
    echo "in recovery on 127.0.0.1:$port"
  else
    echo "not running"
    exit 1
  fi
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
