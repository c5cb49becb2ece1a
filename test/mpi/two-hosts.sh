#!/usr/bin/env bash
# Two "hosts" on one machine: runs ONE command under Open MPI across two
# network namespaces joined by a veth pair, over Open MPI's TCP transport.
#
#   test/mpi/two-hosts.sh [-np N] [--] COMMAND [ARGS...]
#
# What it does (as root; nothing outside its own namespaces is touched):
# - creates two network namespaces, <prefix>-a and <prefix>-b, and a veth pair
#   created directly inside them (it never appears in the machine's own
#   namespace), named rfveth in both, with the project's test addresses
#   10.231.0.1/30 (host a) and 10.231.0.2/30 (host b), plus loopback;
# - gives each "host" its own hostname (<prefix>-a, <prefix>-b) in a UTS
#   namespace of its own: Open MPI keys its session directory and its
#   shared-memory files by hostname, so two hosts with one name collide;
# - starts mpirun on host a with a generated hostfile (ceil(N/2) slots per
#   host: ranks 0..ceil(N/2)-1 on host a, the rest on host b), only the TCP
#   and self BTLs, TCP and out-of-band traffic pinned to the veth, a launcher
#   agent (a generated script, --mca plm_rsh_agent) that enters host b's
#   namespaces instead of ssh, and mpi_yield_when_idle (2 cores: a polling
#   rank would otherwise take its peer's core, ~4 ms per message); Open MPI's
#   session directories go to the script's temporary directory;
# - prints COMMAND's output as it comes, then on stderr one line with the
#   packets and bytes that crossed the veth:
#     two-hosts: veth a->b <packets> packets <bytes> bytes, b->a <packets> packets <bytes> bytes
# - removes both namespaces (and with them the veth), every process left in
#   them and its temporary directory, from a trap: on success, on failure,
#   on Ctrl-C (INT), TERM and HUP. Only SIGKILL of this script can leave
#   them behind (then: ip netns del <prefix>-a; ip netns del <prefix>-b).
#
# Exit status: COMMAND's (mpirun's), 2 for a usage error, 3 when the machine
# cannot do it (not root, no ip/unshare/mpirun, namespaces refused), 130/143
# when interrupted.
#
# Environment:
#   TWO_HOSTS_PREFIX  name prefix of the namespaces and hostnames (default rf<pid>);
#                     at most 12 characters of [a-z0-9-]
#   MPIRUN            mpirun to use (default: mpirun on PATH)
#   MPIRUN_FLAGS      extra mpirun options, word-split (e.g. "--mca btl_base_verbose 30")
# The command inherits this script's environment and working directory on
# both hosts (the namespaces share the file system).
set -euo pipefail

usage() {
  echo "usage: $0 [-np N] [--] COMMAND [ARGS...]" >&2
  exit 2
}

np=2
while [ $# -gt 0 ]; do
  case "$1" in
    -np | -n | --np)
      [ $# -ge 2 ] || usage
      np=$2
      shift 2
      ;;
    --) shift; break ;;
    -*) echo "two-hosts: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
case "$np" in
  '' | *[!0-9]* | 0 | 1) echo "two-hosts: -np takes an integer of at least 2 (one process per host or more), got '$np'" >&2; exit 2 ;;
esac

prefix=${TWO_HOSTS_PREFIX:-rf$$}
if ! [[ "$prefix" =~ ^[a-z0-9][a-z0-9-]{0,11}$ ]]; then
  echo "two-hosts: TWO_HOSTS_PREFIX must be 1-12 characters of a-z, 0-9 and -, got '$prefix'" >&2
  exit 2
fi

cannot() {
  echo "two-hosts: cannot run two hosts here: $*" >&2
  exit 3
}
[ "$(id -u)" = 0 ] || cannot "network namespaces need root (CI runs as root); this is uid $(id -u)"
for tool in ip unshare hostname; do
  command -v "$tool" >/dev/null || cannot "'$tool' not found (Debian: apt-get install iproute2 util-linux hostname)"
done
mpirun=${MPIRUN:-$(command -v mpirun || true)}
if [ -z "$mpirun" ] || [ ! -x "$mpirun" ]; then cannot "mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)"; fi

ns_a="$prefix-a"
ns_b="$prefix-b"
host_a="$prefix-a"
host_b="$prefix-b"
addr_a=10.231.0.1
addr_b=10.231.0.2
veth=rfveth
work=""
job=""

# Ends every process in namespace $1 (TERM, then KILL what is left after 2 s);
# $pids is split into one argument per process on purpose. Runs from the trap.
# shellcheck disable=SC2317,SC2086
end_processes() {
  local pids
  pids=$(ip netns pids "$1" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(ip netns pids "$1" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.2
  done
  kill -KILL $pids 2>/dev/null || true
  sleep 0.1
}

# The trap: ends mpirun and every process of the two hosts, deletes the
# namespaces (and so the veth) and the temporary directory; keeps the status.
# shellcheck disable=SC2317
cleanup() {
  local status=$?
  trap '' INT TERM HUP
  if [ -n "$job" ]; then kill -TERM "$job" 2>/dev/null || true; fi
  for ns in "$ns_a" "$ns_b"; do
    if [ -n "$ns" ] && [ -e "/run/netns/$ns" ]; then
      end_processes "$ns"
      ip netns del "$ns" 2>/dev/null || echo "two-hosts: could not delete namespace $ns" >&2
    fi
  done
  if [ -n "$work" ]; then rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

for ns in "$ns_a" "$ns_b"; do
  if [ -e "/run/netns/$ns" ]; then
    ns_a="" ns_b="" # not ours: the trap must not remove them
    echo "two-hosts: namespace $ns exists already (another run with TWO_HOSTS_PREFIX=$prefix?)" >&2
    exit 3
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/two-hosts.XXXXXX")
ip netns add "$ns_a" || cannot "ip netns add refused (no CAP_SYS_ADMIN, or no /run/netns)"
ip netns add "$ns_b" || cannot "ip netns add refused"
ip link add "$veth" netns "$ns_a" type veth peer name "$veth" netns "$ns_b" || cannot "cannot create a veth pair (no veth module?)"
ip -n "$ns_a" addr add "$addr_a/30" dev "$veth"
ip -n "$ns_b" addr add "$addr_b/30" dev "$veth"
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$veth" up
done

slots=$(((np + 1) / 2))
cat >"$work/hostfile" <<EOF
$host_a slots=$slots
$host_b slots=$slots
EOF
# The host names need no lookup: plm_rsh hands them to the agent, and the
# out-of-band and TCP channels use the veth's addresses.

# The launcher agent: Open MPI calls it as `agent HOST COMMAND...` instead of
# ssh; it enters HOST's namespaces, sets its hostname and runs the command
# (a shell command line, as ssh would) there.
cat >"$work/agent" <<EOF
#!/usr/bin/env bash
host=\$1
shift
case "\$host" in
  $host_a) ns=$ns_a ;;
  $host_b) ns=$ns_b ;;
  *) echo "two-hosts agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts -- /bin/sh -c 'hostname "\$0" && exec /bin/sh -c "\$1"' "\$host" "\$*"
EOF
chmod +x "$work/agent"

counter() { ip netns exec "$ns_a" cat "/sys/class/net/$veth/statistics/$1"; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# shellcheck disable=SC2054 # "tcp,self" is one argument
mpirun_args=(
  -np "$np" --hostfile "$work/hostfile"
  --mca plm_rsh_agent "$work/agent"
  --mca plm_rsh_no_tree_spawn 1
  --mca btl tcp,self
  --mca btl_tcp_if_include "$veth"
  --mca oob_tcp_if_include "$veth"
  --mca mpi_yield_when_idle 1
  --mca orte_tmpdir_base "$work" # session directories too: removed with the rest even when mpirun is killed
)
# shellcheck disable=SC2206
extra=(${MPIRUN_FLAGS:-})

# mpirun runs on host a (so the hosts reach it over the veth); in the
# background, so that a signal reaches the trap while we wait.
# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
ip netns exec "$ns_a" unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$host_a" \
  "$mpirun" "${mpirun_args[@]}" "${extra[@]}" "$@" &
job=$!
set +e
wait "$job"
status=$?
set -e
job=""
echo "two-hosts: veth a->b $(counter tx_packets) packets $(counter tx_bytes) bytes, b->a $(counter rx_packets) packets $(counter rx_bytes) bytes" >&2
exit "$status"
