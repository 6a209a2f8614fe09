#!/usr/bin/env bash
# Throughput of the whole L2TP/IPsec stack through the kernel (not a test):
# l2sec-server and l2sec-client in network namespaces joined by veth (a
# bridge in the server's namespace for two clients), both with --tun, and
# iperf3 TCP through the tunnel between the TUN devices. Reports throughput,
# packets/s (the server TUN's counters), CPU seconds per GB on each side
# (/proc/<pid>/stat utime+stime), and system calls per packet (perf's
# raw_syscalls:sys_enter on the process, when perf can count it), beside
# the same flow with no tunnel (the reference), and --workers 1 vs 2 with
# two streams from two clients. Needs root, iperf3; run from the source tree:
#
#   bench/throughput.sh [BUILD_DIR]     (L2SEC_BENCH_SECONDS=5 per run)
#
# Prints one line per run and the ratios; docs/performance.md keeps a run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$here/../build}
SRV="$BUILD/examples/server/l2sec-server"
CLI="$BUILD/examples/client/l2sec-client"
SECS=${L2SEC_BENCH_SECONDS:-5}
[ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces, TUN, raw ESP)"; exit 1; }
for t in iperf3 ip; do command -v $t >/dev/null || { echo "needs $t (apt-get install $t)"; exit 1; }; done
[ -x "$SRV" ] && [ -x "$CLI" ] || { echo "build l2sec-server and l2sec-client first"; exit 1; }
have_perf=0
perf stat -x, -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 && have_perf=1

t=tp$$
S=${t}s C1=${t}a C2=${t}b
work=$(mktemp -d /tmp/l2sec-throughput.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for ns in $S $C1 $C2; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
for ns in $S $C1 $C2; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip -n "$S" link add br0 type bridge
ip -n "$S" addr add 192.0.2.1/24 dev br0
ip -n "$S" link set br0 up
# 192.0.2.2 and 192.0.2.3 are on different shards of 2 (shard_of by address).
n=2
for ns in $C1 $C2; do
    ip link add c0 netns "$ns" type veth peer name p$n netns "$S"
    ip -n "$ns" addr add 192.0.2.$n/24 dev c0
    ip -n "$ns" link set c0 up
    ip -n "$S" link set p$n master br0
    ip -n "$S" link set p$n up
    n=$((n + 1))
done
printf 'alice wonderland\nbob builder\n' >"$work/users"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# measure LABEL SERVER_PID CLIENT_PIDS DEST...: one iperf3 stream from each
# client namespace (C1, then C2) to DEST i, for SECS seconds; prints a line.
measure() {
    local label=$1 spid=$2 cpids=$3
    shift 3
    local dests=("$@") i
    local rx0 rx1 s0 s1 c0=0 c1=0 p
    rx0=$(ip netns exec "$S" cat /sys/class/net/${tun:-br0}/statistics/rx_packets)
    [ -n "$spid" ] && s0=$(cpu_ticks "$spid")
    for p in $cpids; do c0=$((c0 + $(cpu_ticks "$p"))); done
    local perf_pid=""
    if [ $have_perf = 1 ] && [ -n "$spid" ]; then
        perf stat -x, -e raw_syscalls:sys_enter -p "$spid" -o "$work/perf.$label" -- sleep "$SECS" &
        perf_pid=$!
    fi
    local ips=()
    for i in "${!dests[@]}"; do
        local ns=$C1
        [ "$i" = 1 ] && ns=$C2
        ip netns exec "$ns" iperf3 -c "${dests[$i]}" -p $((5201 + i)) -t "$SECS" -J >"$work/iperf.$label.$i" 2>&1 &
        ips+=($!)
    done
    for p in "${ips[@]}"; do wait "$p" || true; done
    [ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null || true
    rx1=$(ip netns exec "$S" cat /sys/class/net/${tun:-br0}/statistics/rx_packets)
    [ -n "$spid" ] && s1=$(cpu_ticks "$spid")
    for p in $cpids; do c1=$((c1 + $(cpu_ticks "$p"))); done
    local bps=0 bytes=0 retr=0
    for i in "${!dests[@]}"; do
        local b y
        b=$(grep -A8 '"sum_received"' "$work/iperf.$label.$i" | grep -m1 '"bits_per_second"' | tr -dc '0-9.')
        y=$(grep -A8 '"sum_received"' "$work/iperf.$label.$i" | grep -m1 '"bytes"' | tr -dc '0-9')
        bps=$(awk -v a="$bps" -v b="${b:-0}" 'BEGIN{print a + b}')
        bytes=$((bytes + ${y:-0}))
        r=$(grep -A12 '"sum_sent"' "$work/iperf.$label.$i" | grep -m1 '"retransmits"' | tr -dc '0-9')
        retr=$((retr + ${r:-0}))
    done
    local pkts=$((rx1 - rx0))
    local gb
    gb=$(awk -v b=$bytes 'BEGIN{print b / 1e9}')
    local scpu="-" ccpu="-" sys="-" sysmb="-"
    [ -n "$spid" ] && scpu=$(awk -v t=$((s1 - s0)) -v hz="$hz" -v gb="$gb" 'BEGIN{printf "%.2f", t / hz / gb}')
    [ -n "$cpids" ] && ccpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v gb="$gb" 'BEGIN{printf "%.2f", t / hz / gb}')
    if [ -f "$work/perf.$label" ]; then
        local calls
        calls=$(grep raw_syscalls "$work/perf.$label" | cut -d, -f1)
        # packets both ways through the server: data in, ACKs out (TUN rx + tx)
        local tx
        tx=$(ip netns exec "$S" cat /sys/class/net/${tun:-br0}/statistics/tx_packets)
        sys=$(awk -v c="${calls:-0}" -v p="$pkts" -v tx0="${tx0:-0}" -v tx="$tx" 'BEGIN{n = p + (tx - tx0); if (n > 0) printf "%.2f", c / n; else print "-"}')
        # per MB moved: comparable with TUN offloads, where a TUN packet is a super-packet
        sysmb=$(awk -v c="${calls:-0}" -v b="$bytes" 'BEGIN{if (b > 0) printf "%.0f", c / (b / 1e6); else print "-"}')
    fi
    printf '%-34s %8.1f Mbit/s %9.0f TUN pkt/s  server %6s CPU-s/GB  client %6s CPU-s/GB  server %5s syscalls/TUN pkt, %5s syscalls/MB  %5s TCP retransmits\n' \
        "$label" "$(awk -v b="$bps" 'BEGIN{print b / 1e6}')" "$(awk -v p=$pkts -v s="$SECS" 'BEGIN{print p / s}')" \
        "$scpu" "$ccpu" "$sys" "$sysmb" "$retr"
    echo "$label $(awk -v b="$bps" 'BEGIN{print b / 1e6}')" >>"$work/results"
}

# Reference: the same TCP flows with no tunnel (iperf3 servers on the bridge address).
ip netns exec "$S" iperf3 -s -p 5201 -D -I "$work/iperf-s1.pid"
ip netns exec "$S" iperf3 -s -p 5202 -D -I "$work/iperf-s2.pid"
sleep 0.5
pids+=("$(cat "$work/iperf-s1.pid")" "$(cat "$work/iperf-s2.pid")")
echo "l2sec throughput, $(nproc) cores, ${SECS} s per run, $(date -u +%Y-%m-%dT%H:%MZ)"
tun="" measure "no tunnel, 1 stream" "" "" 192.0.2.1
tun="" measure "no tunnel, 2 streams" "" "" 192.0.2.1 192.0.2.1

# run_tunnel WORKERS STREAMS [FLAG...]: FLAGs (--crypto X, --tun-offload) go to
# both programs and into the label.
run_tunnel() {
    local workers=$1 streams=$2
    shift 2
    local flags=("$@")
    ip netns exec "$S" "$SRV" --listen 192.0.2.1 --psk bench --users "$work/users" --tun l2s0 \
        --workers "$workers" --json "${flags[@]}" >"$work/server.$workers.json" 2>&1 &
    local spid=$!
    pids+=("$spid")
    sleep 0.5
    local cp=() i
    for i in $(seq "$streams"); do
        local ns=$C1 user=alice pw=wonderland
        [ "$i" = 2 ] && ns=$C2 user=bob pw=builder
        ip netns exec "$ns" "$CLI" --server 192.0.2.1 --psk bench --user $user --password $pw \
            --tun l2c0 --hold 600 --json "${flags[@]}" >"$work/client.$workers.$i.json" 2>&1 &
        cp+=($!)
        pids+=($!)
    done
    for i in $(seq "$streams"); do
        for _ in $(seq 100); do grep -qs '"event":"client_up"' "$work/client.$workers.$i.json" && break; sleep 0.1; done
    done
    sleep 0.5
    local dests=()
    for i in $(seq "$streams"); do dests+=(10.10.0.1); done
    tx0=$(ip netns exec "$S" cat /sys/class/net/l2s0/statistics/tx_packets)
    local suite
    suite=$(grep -o '"suite":"[^"]*"' "$work/client.$workers.1.json" | head -1 | cut -d'"' -f4)
    tun=l2s0 measure "tunnel, --workers $workers, $streams stream$([ "$streams" = 1 ] || echo s)${flags[*]:+ ${flags[*]}}" "$spid" "${cp[*]}" "${dests[@]}"
    [ -n "$suite" ] && echo "    ESP: $suite"
    # Where packets were lost: TUN queues (tx_dropped: the kernel's queue to
    # the program overflowed), socket receive buffers (UDP RcvbufErrors, raw
    # ESP drops in /proc/net/raw).
    local where
    for where in "$S l2s0" "$C1 l2c0"; do
        set -- $where
        printf '    %s: TUN tx_dropped %s, UDP RcvbufErrors %s, raw ESP drops %s\n' \
            "$([ "$1" = "$S" ] && echo server || echo client1)" \
            "$(ip netns exec "$1" cat /sys/class/net/$2/statistics/tx_dropped)" \
            "$(ip netns exec "$1" awk '/^Udp:/ {n++; if (n == 2) print $6}' /proc/net/snmp)" \
            "$(ip netns exec "$1" awk 'NR > 1 && $10 ~ /^[0-9]+$/ {d += $NF} END {print d + 0}' /proc/net/raw)"
    done
    kill -TERM "$spid" "${cp[@]}" 2>/dev/null || true
    for p in "$spid" "${cp[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    grep -h '"worker"' "$work/server.$workers.json" | grep -o '"event":"ppp_up","worker":[0-9]' | sort | uniq -c | sed 's/^/    /' || true
}
run_tunnel 1 1
run_tunnel 1 1 --tun-offload
run_tunnel 1 1 --crypto botan
run_tunnel 1 1 --crypto botan --tun-offload
run_tunnel 1 1 --esp-proposals aes128-gcm
run_tunnel 1 1 --esp-proposals aes128-gcm --tun-offload
run_tunnel 1 2
run_tunnel 2 2
run_tunnel 2 2 --tun-offload

echo "ratios (same run):"
ref1=$(grep '^no tunnel, 1 stream ' "$work/results" | awk '{print $NF}')
ref2=$(grep '^no tunnel, 2 streams ' "$work/results" | awk '{print $NF}')
t11=$(grep '^tunnel, --workers 1, 1 stream ' "$work/results" | awk '{print $NF}')
t12=$(grep '^tunnel, --workers 1, 2 streams ' "$work/results" | awk '{print $NF}')
t22=$(grep '^tunnel, --workers 2, 2 streams ' "$work/results" | awk '{print $NF}')
o11=$(grep '^tunnel, --workers 1, 1 stream --tun-offload ' "$work/results" | awk '{print $NF}')
b11=$(grep '^tunnel, --workers 1, 1 stream --crypto botan ' "$work/results" | awk '{print $NF}')
bo11=$(grep '^tunnel, --workers 1, 1 stream --crypto botan --tun-offload ' "$work/results" | awk '{print $NF}')
o22=$(grep '^tunnel, --workers 2, 2 streams --tun-offload ' "$work/results" | awk '{print $NF}')
g11=$(grep '^tunnel, --workers 1, 1 stream --esp-proposals aes128-gcm ' "$work/results" | awk '{print $NF}')
go11=$(grep '^tunnel, --workers 1, 1 stream --esp-proposals aes128-gcm --tun-offload ' "$work/results" | awk '{print $NF}')
awk -v a="$t11" -v o="$o11" -v b="$b11" -v bo="$bo11" -v c="$t22" -v oc="$o22" -v g="$g11" -v go="$go11" 'BEGIN{
  printf "  --tun-offload / without, 1 stream: %.2f (default crypto), %.2f (botan)\n", o / a, bo / b;
  printf "  --tun-offload / without, --workers 2, 2 streams: %.2f\n", oc / c;
  printf "  default crypto / botan, 1 stream: %.2f\n", a / b;
  printf "  AES-128-GCM / the default CBC suite, 1 stream: %.2f, with --tun-offload %.2f\n", g / a, go / o }'
awk -v r1="$ref1" -v r2="$ref2" -v a="$t11" -v b="$t12" -v c="$t22" 'BEGIN{
  printf "  tunnel/no tunnel, 1 stream:      %.3f\n", a / r1;
  printf "  tunnel/no tunnel, 2 streams:     %.3f (workers 1), %.3f (workers 2)\n", b / r2, c / r2;
  printf "  --workers 2 / --workers 1, 2 streams: %.2f\n", c / b }'
