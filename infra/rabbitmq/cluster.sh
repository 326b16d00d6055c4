#!/usr/bin/env bash
# A local three-node RabbitMQ cluster beside the machine's own broker (which stays on 5672,
# untouched): for the cluster tests, the benchmarks and trying node loss by hand.
#
#   cluster.sh up            start appstore-a, -b, -c @localhost, cluster them, load the
#                            topology; the last line printed is BROKER_URL=<all three nodes>
#   cluster.sh kill NODE     SIGKILL that node's Erlang VM (a crash, not a clean stop)
#   cluster.sh start NODE    start it again; it rejoins and this waits until it runs
#   cluster.sh status        each node's state, and where each queue's leader and members are
#   cluster.sh down          stop every node and remove the cluster's data
#
# NODE is a node name as `rabbitmqctl list_queues leader` prints it (appstore-b@localhost)
# or its short form (appstore-b). Data and logs live under $CLUSTER_DIR
# (default ./.data/rabbitmq-cluster); AMQP ports are $CLUSTER_BASE_PORT (default 5681) and
# the next two, Erlang distribution ports 20000 above those. The nodes share the Erlang
# cookie of the machine's own rabbitmqctl, so `rabbitmqctl -n appstore-a@localhost ...` works.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DEFINITIONS=${CLUSTER_DEFINITIONS:-$HERE/definitions.json}
CLUSTER_DIR=${CLUSTER_DIR:-./.data/rabbitmq-cluster}
BASE_PORT=${CLUSTER_BASE_PORT:-5681}
SHORT_NAMES=(appstore-a appstore-b appstore-c)
START_SECONDS=${CLUSTER_START_SECONDS:-120}

say() { echo "cluster: $*" >&2; }
die() {
  say "$*"
  exit 1
}

command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
CLUSTER_DIR=$(realpath -m "$CLUSTER_DIR")

make_cluster_dir() {
  mkdir -p "$CLUSTER_DIR"
  # The nodes run as the rabbitmq user, which must reach their folders inside.
  chmod a+rx "$CLUSTER_DIR"
}

short_name() {
  local name=${1%@localhost}
  for known in "${SHORT_NAMES[@]}"; do
    [[ $name == "$known" ]] && {
      echo "$name"
      return 0
    }
  done
  die "no node named '$1' (one of: ${SHORT_NAMES[*]}, with or without @localhost)"
}

index_of() {
  local i
  for i in "${!SHORT_NAMES[@]}"; do [[ ${SHORT_NAMES[$i]} == "$1" ]] && echo "$i"; done
}

port_of() { echo $((BASE_PORT + $(index_of "$1"))); }
node_dir() { echo "$CLUSTER_DIR/$1"; }
ctl() { rabbitmqctl -q -n "$1@localhost" "${@:2}"; }

broker_url() {
  local urls=() name
  for name in "${SHORT_NAMES[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(port_of "$name")/"); done
  local IFS=';'
  echo "${urls[*]}"
}

# Whether the node's VM answers at all (started, maybe still booting).
alive() { ctl "$1" ping >/dev/null 2>&1; }

# The pid of the node's VM when it runs from this CLUSTER_DIR (node names are per machine:
# another CLUSTER_DIR's cluster has the same ones), else nothing.
own_pid() {
  local pid_file pid
  pid_file=$(node_dir "$1")/pid
  [[ -s $pid_file ]] || return 0
  pid=$(cat "$pid_file")
  [[ $(ps -p "$pid" -o comm= 2>/dev/null) == beam.smp ]] && echo "$pid"
  return 0
}

# Refuse to act on a node of the same name started from another CLUSTER_DIR.
require_own() {
  if alive "$1" && [[ -z $(own_pid "$1") ]]; then
    die "$1@localhost runs from another CLUSTER_DIR than $CLUSTER_DIR: stop that cluster first (CLUSTER_DIR=... cluster.sh down)"
  fi
}

# Whether the node runs RabbitMQ, not just its VM.
running() { ctl "$1" await_startup --timeout 1 >/dev/null 2>&1; }

prepare() {
  local name=$1 dir port
  dir=$(node_dir "$name")
  port=$(port_of "$name")
  mkdir -p "$dir/mnesia" "$dir/log"
  # The machine's own configuration pins its listener to 5672 and names its node, so each
  # node gets files of its own instead.
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$port
loopback_users = none
# A node cut off from the majority stops serving instead of diverging from it.
cluster_partition_handling = pause_minority
EOF
  echo "[]." >"$dir/enabled_plugins"
  echo "ERL_EPMD_ADDRESS=127.0.0.1" >"$dir/rabbitmq-env.conf"
  # rabbitmq-server runs the node as the rabbitmq user, which must own what the node writes.
  chown -R rabbitmq:rabbitmq "$dir"
  su rabbitmq -s /bin/sh -c "test -w '$dir/mnesia'" ||
    die "the rabbitmq user cannot write $dir (a parent folder closed to it?): set CLUSTER_DIR elsewhere"
}

launch() {
  local name=$1 dir port
  dir=$(node_dir "$name")
  port=$(port_of "$name")
  RABBITMQ_NODENAME="$name@localhost" \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_MNESIA_DIR="$dir/mnesia/$name" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$dir/pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    rabbitmq-server -detached
}

wait_running() {
  local name=$1 deadline=$((SECONDS + START_SECONDS))
  until running "$name"; do
    ((SECONDS < deadline)) || die "$name did not start within ${START_SECONDS}s: see $(node_dir "$name")/log"
    sleep 1
  done
}

start_node() {
  local name=$1
  require_own "$name"
  if alive "$name"; then
    wait_running "$name"
    return
  fi
  prepare "$name"
  say "starting $name@localhost on port $(port_of "$name")"
  launch "$name"
  wait_running "$name"
}

# The names of the nodes that the cluster (as seen from $1) counts as members / running.
members() {
  ctl "$1" cluster_status --formatter json | python3 -c '
import json, sys
status = json.load(sys.stdin)
print(" ".join(status[sys.argv[1]]))' "$2"
}

join() {
  local name=$1 seed=${SHORT_NAMES[0]}
  [[ $name == "$seed" ]] && return
  [[ " $(members "$seed" disk_nodes) " == *" $name@localhost "* ]] && return
  say "joining $name@localhost to $seed@localhost"
  ctl "$name" stop_app
  ctl "$name" join_cluster "$seed@localhost"
  ctl "$name" start_app
  wait_running "$name"
}

# Wait until every node counts every node as running, as seen from $1 (a running node).
wait_all_running() {
  local deadline=$((SECONDS + START_SECONDS)) want=${#SHORT_NAMES[@]}
  until [[ $(members "$1" running_nodes 2>/dev/null | wc -w) -eq $want ]]; do
    ((SECONDS < deadline)) || die "not all ${want} nodes run within ${START_SECONDS}s"
    sleep 1
  done
}

up() {
  local name
  make_cluster_dir
  for name in "${SHORT_NAMES[@]}"; do require_own "$name"; done
  for name in "${SHORT_NAMES[@]}"; do
    alive "$name" || {
      prepare "$name"
      say "starting $name@localhost on port $(port_of "$name")"
      launch "$name"
    }
  done
  for name in "${SHORT_NAMES[@]}"; do wait_running "$name"; done
  for name in "${SHORT_NAMES[@]}"; do join "$name"; done
  wait_all_running "${SHORT_NAMES[0]}"
  # Loaded once all three run, so every quorum queue gets a member on each node.
  ctl "${SHORT_NAMES[0]}" import_definitions "$DEFINITIONS" >/dev/null
  echo "BROKER_URL=$(broker_url)"
}

kill_node() {
  local name pid
  name=$(short_name "$1")
  require_own "$name"
  pid=$(own_pid "$name")
  if [[ -z $pid ]]; then
    say "$name@localhost was not running"
    return
  fi
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$(node_dir "$name")/pid"
  say "killed $name@localhost (pid $pid)"
}

status() {
  local name state any=""
  for name in "${SHORT_NAMES[@]}"; do
    if running "$name"; then
      state=running
      any=$name
    elif alive "$name"; then
      state=starting
    else
      state=down
    fi
    printf '%-22s %-9s amqp 127.0.0.1:%s\n' "$name@localhost" "$state" "$(port_of "$name")"
  done
  if [[ -n $any ]]; then
    echo
    ctl "$any" list_queues name type leader members messages
  fi
}

down() {
  local name pid
  for name in "${SHORT_NAMES[@]}"; do
    pid=$(own_pid "$name")
    [[ -n $pid ]] || continue
    ctl "$name" stop >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  rm -rf "$CLUSTER_DIR"
  say "stopped; removed $CLUSTER_DIR"
}

case ${1:-} in
up) up ;;
kill) kill_node "${2:?which node?}" ;;
start)
  name=$(short_name "${2:?which node?}")
  make_cluster_dir
  start_node "$name"
  wait_all_running "$name"
  say "$name@localhost runs and is in the cluster"
  ;;
status) status ;;
down) down ;;
*)
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
