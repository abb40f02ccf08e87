#!/usr/bin/env bash
# PgBouncer in transaction mode in front of this machine's PostgreSQL
# (127.0.0.1:5432), on 127.0.0.1:6432 (docs/scaling.md). Loopback only.
#
#   bench/pgbouncer.sh start   # installs Debian's pgbouncer when missing
#   bench/pgbouncer.sh stop
#
# Every database of the server is reachable through it under its own name
# (DATABASE_URL=postgres://postgres@127.0.0.1:6432/<name>), with trust
# authentication as the server has. Idempotent.
set -euo pipefail
port=${PGBOUNCER_PORT:-6432}
dir=${PGBOUNCER_DIR:-/tmp/pgbouncer-$port}

case "${1:-}" in
start)
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "pgbouncer already running on 127.0.0.1:$port"
    exit 0
  fi
  command -v pgbouncer >/dev/null || apt-get install -y -q pgbouncer >/dev/null
  mkdir -p "$dir"
  chown postgres "$dir"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  echo '"postgres" ""' >"$dir/userlist.txt"
  runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
  for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  pg_isready -q -h 127.0.0.1 -p "$port"
  echo "pgbouncer (transaction mode) on 127.0.0.1:$port"
  ;;
stop)
  if [ -f "$dir/pgbouncer.pid" ]; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -f "$dir/pgbouncer.pid" ] || break
      sleep 0.1
    done
  fi
  echo "pgbouncer stopped"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
