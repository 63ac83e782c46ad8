#!/usr/bin/env bash
# A throw-away Redis Cluster on this machine, 3 masters and 3 replicas, from the redis-server and
# redis-cli on PATH (Debian's redis-server package has both). For tests and developers:
#
#   dir=$(mktemp -d)
#   test/redis-cluster.sh start "$dir"        # six free ports from 7001 up, or from REDIS_CLUSTER_PORT
#   export TEST_REDIS_CLUSTER_NODES=$(cat "$dir/nodes")
#   npx vitest run test/redis-cluster.test.ts
#   test/redis-cluster.sh stop "$dir"         # stops the six servers and removes the folder
#
# Nothing is written outside the folder; no data is saved to disk beyond the cluster's own
# nodes-<port>.conf files.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop <empty folder>" >&2
  exit 2
}

[ $# -eq 2 ] || usage
action=$1
dir=$2

taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Six ports free, and the cluster bus's ports (each 10000 above) too.
block_free() {
  local port
  for port in $(seq "$1" $(($1 + 5))); do
    if taken "$port" || taken $((port + 10000)); then return 1; fi
  done
}

start() {
  [ -d "$dir" ] || mkdir -p "$dir"
  if [ -n "$(ls -A "$dir")" ]; then
    echo "$dir is not empty" >&2
    exit 1
  fi
  local base=${REDIS_CLUSTER_PORT:-}
  if [ -z "$base" ]; then
    for candidate in $(seq 7001 10 7991); do
      if block_free "$candidate"; then
        base=$candidate
        break
      fi
    done
  fi
  # A port taken by something else would join this cluster to a stranger's server.
  if [ -z "$base" ] || ! block_free "$base"; then
    echo "no six free ports (and bus ports) from ${base:-7001}; set REDIS_CLUSTER_PORT" >&2
    exit 1
  fi
  ports=$(seq "$base" $((base + 5)))
  for port in $ports; do
    # A short node timeout makes failover quick; noeviction as Redress asks of every Redis.
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log" \
      --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 2000 \
      --save "" --appendonly no --maxmemory-policy noeviction
  done
  for port in $ports; do
    wait_until "redis on port $port" answers "$port"
  done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(for port in $ports; do printf '127.0.0.1:%s ' "$port"; done) \
    --cluster-replicas 1 --cluster-yes >"$dir/create.log"
  for port in $ports; do
    wait_until "cluster_state:ok on port $port" cluster_ok "$port"
  done
  # Every master has its replica before the tests start (a failover needs one).
  for port in $ports; do
    wait_until "replication on port $port" replica_synced "$port"
  done
  (for port in $ports; do printf '127.0.0.1:%s,' "$port"; done) | sed 's/,$//' >"$dir/nodes"
  echo "Redis Cluster up: $(cat "$dir/nodes")"
}

stop() {
  [ -d "$dir" ] || return 0
  # Only the servers this script started there, as their pid files say. A server that was killed
  # outright left its pid file behind, and the pid may be another process's by now: each must
  # still be a redis-server on its port. A server stopping removes its own file, so read first.
  local pids=() pidfile pid port
  for pidfile in "$dir"/redis-*.pid; do
    pid=$(cat "$pidfile" 2>/dev/null) || continue
    port=${pidfile##*/redis-}
    port=${port%.pid}
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server .*:$port"; then
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  rm -rf "$dir"
}

answers() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { redis-cli -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
replica_synced() {
  local info
  info=$(redis-cli -p "$1" info replication 2>/dev/null)
  if grep -q '^role:master' <<<"$info"; then
    grep -q '^connected_slaves:1' <<<"$info"
  else
    grep -q '^master_link_status:up' <<<"$info"
  fi
}

wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 300); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  echo "$what: not within 30 s" >&2
  exit 1
}

case "$action" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
