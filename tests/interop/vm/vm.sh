# shellcheck shell=bash
# shellcheck disable=SC2034 # vm_* variables are this library's API, read by the tests
# The real Linux L2TP/IPsec stack in QEMU guests, for interop tests.
# Source it after lib.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/vm/vm.sh"
# docs/vm-interop.md explains the design, the API and the pitfalls; in short:
#
#   vm_need                           skip (77) unless QEMU, busybox-static and a
#                                     Debian kernel (cached or downloadable) are there
#   vm_net                            the test network: a WAN ("internet") segment
#                                     with the host's address, a NAT router, a LAN
#   vm_boot NAME wan|lan [ADDR]       start a VM on a segment (returns at once)
#   vm_host_ns NAME wan|lan ADDR      a namespace for a host program on a segment
#   vm_wait_ready NAME...             wait until each VM's guest init is up
#   vm_client NAME KEY=VALUE...       Linux L2TP/IPsec client (strongSwan + xl2tpd LAC + pppd);
#                                     vm_client_start/_wait/_ping/_rekey/_down
#   vm_server NAME KEY=VALUE...       Linux L2TP/IPsec server (strongSwan + xl2tpd LNS + pppd)
#   vm_status NAME WHAT SESSION       a STATUS line of the guest (vm_field LINE KEY: a value)
#   vm_wait NAME PATTERN [SECONDS]    wait for a STATUS line of the guest
#   vm_run NAME SECONDS COMMAND...    run a shell command in the guest
#   vm_stop NAME...                   clean poweroff (killed if it does not come)
#
# Everything started is recorded in lib.sh's `pids`/`netns_made` and torn down
# on exit, whatever the way out.

vm_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_cache=${L2SEC_VM_CACHE:-/var/cache/l2sec-vm}
vm_tag=${vm_tag:-$$}
vm_kernel=""  # the ELF vmlinux booted (PVH entry)
vm_initrd=""  # the initramfs (busybox + module closure + init)
declare -gA vm_pid vm_dir vm_addr vm_t0 vm_ctl vm_tap vm_ns
vm_names=()

# The modules the guest loads at boot (with their dependencies): the 9p root
# and the virtio devices; xfrm + ESP (strongSwan's kernel-netlink); the ciphers
# and MACs of every ESP proposal the presets use; kernel L2TP and PPP; the
# crypto helpers the kernel would otherwise modprobe for on the first SA
# (DESIGN.md: authenc echainiv gcm drbg sha3_generic jitterentropy_rng).
vm_modules=(
    virtio_pci virtio_net virtio_console virtio_rng 9pnet_virtio 9p
    xfrm_user xfrm_algo esp4 ah4 xfrm4_tunnel
    authenc echainiv seqiv gcm ghash_generic ctr cbc des_generic sha512_generic
    drbg sha3_generic jitterentropy_rng aesni_intel
    l2tp_core l2tp_netlink l2tp_ppp ppp_generic pppox ppp_async
    dummy veth tun
)

vm_log() { echo "vm: $*"; }

# vm_kernel_release: the kernel release to use ("6.1.0-57-amd64"): $L2SEC_VM_KERNEL,
# else the newest one already prepared in the cache, else the one Debian's
# linux-image-amd64 depends on. Empty when none can be found.
vm_kernel_release() {
    if [ -n "${L2SEC_VM_KERNEL:-}" ]; then
        echo "$L2SEC_VM_KERNEL"
        return
    fi
    local d newest=""
    for d in "$vm_cache"/*/vmlinux; do
        [ -e "$d" ] && newest=$(basename "$(dirname "$d")")
    done
    if [ -n "$newest" ]; then
        echo "$newest"
        return
    fi
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

# vm_prepare_kernel KV: $vm_cache/KV/{vmlinux,modules/} from Debian's
# linux-image-KV package (apt-get download, dpkg-deb -x, depmod); the .deb is
# kept so that a new initramfs needs no network. False (with a reason on
# stdout) when the package cannot be had.
vm_prepare_kernel() {
    local kv=$1 d=$vm_cache/$1
    [ -s "$d/vmlinux" ] && [ -s "$d/modules/lib/modules/$kv/modules.dep" ] && return 0
    mkdir -p "$d" || { echo "cannot create $d"; return 1; }
    local deb
    deb=$(ls "$d"/linux-image-"$kv"_*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        vm_log "downloading linux-image-$kv" >&2
        (cd "$d" && timeout 300 apt-get download "linux-image-$kv" >"$d/download.log" 2>&1)
        deb=$(ls "$d"/linux-image-"$kv"_*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || { echo "apt-get download linux-image-$kv failed: $(tail -n 1 "$d/download.log")"; return 1; }
    fi
    rm -rf "$d/x" "$d/modules"
    dpkg-deb -x "$deb" "$d/x" || { echo "dpkg-deb -x $deb failed"; return 1; }
    # Debian's bzImage carries an XZ-compressed ELF: decompressing it at every
    # boot costs ~6 s under TCG, so boot the ELF itself (it has a PVH entry).
    local z off
    z=$d/x/boot/vmlinuz-$kv
    off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$z" | head -n 1 | cut -d: -f1)
    [ -n "$off" ] || { echo "no XZ stream in $z"; return 1; }
    tail -c +$((off + 1)) "$z" | xz -dc >"$d/vmlinux.tmp" 2>/dev/null
    [ "$(head -c 4 "$d/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] ||
        { echo "$z did not decompress to an ELF"; return 1; }
    # The .deb has no modules.dep: make it (kmod's depmod, else busybox's).
    mkdir -p "$d/modules/lib"
    mv "$d/x/lib/modules" "$d/modules/lib/"
    if command -v depmod >/dev/null; then
        depmod -b "$d/modules" "$kv"
    else
        busybox depmod -b "$d/modules" "$kv"
    fi || { echo "depmod failed"; return 1; }
    mv "$d/vmlinux.tmp" "$d/vmlinux"
    rm -rf "$d/x"
}

# vm_prepare_initramfs KV: $vm_cache/KV/initramfs-HASH.cpio, HASH over the
# init script and the module list, so a change of either makes a new one.
# Uncompressed: unpacking is cheap, decompressing is not (TCG).
vm_prepare_initramfs() {
    local kv=$1 d=$vm_cache/$1 hash
    hash=$( { cat "$vm_src/initramfs-init"; echo "${vm_modules[*]}"; } | sha256sum | cut -c1-16)
    vm_initrd=$d/initramfs-$hash.cpio
    [ -s "$vm_initrd" ] && return 0
    local busybox
    busybox=$(command -v busybox) || { echo "busybox missing (busybox-static)"; return 1; }
    if command -v readelf >/dev/null && readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
        echo "$busybox is dynamically linked: the initramfs needs busybox-static"; return 1
    fi
    local s=$d/initramfs.stage
    rm -rf "$s"
    mkdir -p "$s/bin" "$s/dev" "$s/lib/modules/$kv"
    cp "$busybox" "$s/bin/busybox"
    mknod -m 600 "$s/dev/console" c 5 1
    install -m 755 "$vm_src/initramfs-init" "$s/init"
    # The closure of vm_modules, then a modules.dep for just those.
    local m mods=$d/modules/lib/modules/$kv
    for m in "${vm_modules[@]}"; do
        modprobe -d "$d/modules" -S "$kv" --show-depends "$m" 2>/dev/null
    done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r m; do
        mkdir -p "$s/lib/modules/$kv/$(dirname "${m#"$mods"/}")"
        cp "$m" "$s/lib/modules/$kv/${m#"$mods"/}"
    done
    cp "$mods"/modules.builtin "$mods"/modules.builtin.modinfo "$mods"/modules.order "$s/lib/modules/$kv/"
    depmod -b "$s" "$kv" || { echo "depmod of the initramfs failed"; return 1; }
    printf '%s\n' "${vm_modules[@]}" >"$s/modules.list"
    (cd "$s" && find . | LC_ALL=C sort | busybox cpio -o -H newc >"$vm_initrd.tmp" 2>/dev/null) ||
        { echo "cpio failed"; return 1; }
    mv "$vm_initrd.tmp" "$vm_initrd"
    rm -rf "$s"
    local old
    for old in "$d"/initramfs-*.cpio; do
        [ "$old" = "$vm_initrd" ] || rm -f "$old"  # made from an older init or module list
    done
}

# vm_need: skips unless the harness can run here: root, network namespaces,
# /dev/net/tun, qemu-system-x86_64, a static busybox, kmod's modprobe (to
# resolve module dependencies) and a Debian kernel, which it prepares (once,
# cached in $L2SEC_VM_CACHE, default /var/cache/l2sec-vm) together with the
# initramfs. Sets vm_kernel and vm_initrd.
vm_need() {
    need_root "for network namespaces and tap devices"
    need_tools qemu-system-x86_64 busybox modprobe depmod dpkg-deb xz ip iptables
    [ -c /dev/net/tun ] || skip "/dev/net/tun missing (tap devices for the VMs)"
    local kv why
    kv=$(vm_kernel_release)
    [ -n "$kv" ] || skip "no Debian kernel package known (apt-cache depends linux-image-amd64 is empty: apt-get update?)"
    mkdir -p "$vm_cache" || skip "cannot create $vm_cache"
    exec {vm_lock}>"$vm_cache/.lock"
    flock -w 600 "$vm_lock" || skip "the kernel cache $vm_cache stays locked"
    why=$(vm_prepare_kernel "$kv") || { flock -u "$vm_lock"; skip "no kernel for the VM: $why"; }
    why=$(vm_prepare_initramfs "$kv") || { flock -u "$vm_lock"; skip "no initramfs for the VM: $why"; }
    flock -u "$vm_lock"
    vm_prepare_initramfs "$kv" >/dev/null  # sets vm_initrd (cached now)
    vm_kernel=$vm_cache/$kv/vmlinux
    vm_kv=$kv
}

# --- the test network ---------------------------------------------------------
#
#   VMs on "lan" ── bridge ── [NAT router: masquerade] ── bridge ── VMs on "wan"
#   10.97.2.0/24   (in $vm_nat_ns)  10.97.2.1 | 10.97.1.254    (in $vm_wan_ns)
#                                                              10.97.1.1: the host,
#                                                              e.g. l2sec-server
#
# $vm_wan_ns is the "internet": the host's programs under test run there
# (ip netns exec "$vm_wan_ns" ...), on $vm_wan_ip. VMs on "lan" reach it only
# through the NAT ($vm_nat_ip), as real clients behind a home router do; several
# VMs can share either segment.
vm_wan_net=10.97.1
vm_lan_net=10.97.2
vm_wan_ip=$vm_wan_net.1
vm_nat_ip=$vm_wan_net.254
vm_lan_gw=$vm_lan_net.1
vm_wan_ns=""
vm_nat_ns=""

# vm_net: makes the two namespaces and the NAT between them (deleted on exit).
vm_net() {
    vm_wan_ns=l2vw$vm_tag
    vm_nat_ns=l2vn$vm_tag
    ip netns add "$vm_wan_ns" || skip "cannot create a network namespace"
    netns_made+=("$vm_wan_ns")
    ip netns add "$vm_nat_ns" || skip "cannot create a second network namespace"
    netns_made+=("$vm_nat_ns")
    local ns
    for ns in "$vm_wan_ns" "$vm_nat_ns"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link add br0 type bridge || skip "cannot create a bridge"
        ip -n "$ns" link set br0 up
    done
    ip -n "$vm_wan_ns" addr add "$vm_wan_ip/24" dev br0
    ip link add wan0 netns "$vm_nat_ns" type veth peer name nat0 netns "$vm_wan_ns" || skip "cannot create a veth pair"
    ip -n "$vm_wan_ns" link set nat0 master br0 up
    ip -n "$vm_nat_ns" addr add "$vm_nat_ip/24" dev wan0
    ip -n "$vm_nat_ns" link set wan0 up
    ip -n "$vm_nat_ns" addr add "$vm_lan_gw/24" dev br0
    ip netns exec "$vm_nat_ns" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$vm_nat_ns" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE ||
        skip "iptables cannot masquerade in a namespace here"
}

# vm_host_ns NAME wan|lan ADDR: a namespace for a host program that must sit
# on a segment as a VM does (e.g. l2sec-client behind the NAT, on "lan"):
# a veth into that segment's bridge, eth0 = ADDR/24, the segment's router as
# its default route (the NAT on "lan"). Sets vm_host[NAME] (the namespace;
# deleted on exit): ip netns exec "${vm_host[NAME]}" PROGRAM...
declare -gA vm_host
vm_host_count=0
vm_host_ns() {
    local name=$1 side=$2 addr=$3 seg gw=""
    case $side in
        wan) seg=$vm_wan_ns ;;
        lan) seg=$vm_nat_ns; gw=$vm_lan_gw ;;
        *) echo "vm_host_ns: side must be wan or lan"; return 1 ;;
    esac
    [ -n "$seg" ] || { echo "vm_host_ns: call vm_net first"; return 1; }
    vm_host_count=$((vm_host_count + 1))
    local ns=l2vh$vm_tag$vm_host_count port=h$vm_tag$vm_host_count
    ip netns add "$ns" || { echo "vm_host_ns: cannot create $ns"; return 1; }
    netns_made+=("$ns")
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "$port" netns "$seg" ||
        { echo "vm_host_ns: cannot create a veth pair"; return 1; }
    ip -n "$seg" link set "$port" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    [ -z "$gw" ] || ip -n "$ns" route add default via "$gw"
    vm_host[$name]=$ns
}

# --- VMs ----------------------------------------------------------------------

vm_count=0

# vm_boot NAME wan|lan [ADDR] [MEMORY_MB]: starts a VM (returns at once; see
# vm_wait_ready) with a tap on that segment, eth0 = ADDR (default: the next
# free .10+ address of the segment) and the segment's router as its gateway
# (the NAT on "lan"; none on "wan"). Its directory $work/vm-NAME holds the
# console log (console.log), the status lines (status.log), the guest's
# configs and logs, and is /run/vm in the guest.
vm_boot() {
    local name=$1 side=$2 addr=${3:-} mem=${4:-384}
    local ns gw="" net
    case $side in
        wan) ns=$vm_wan_ns; net=$vm_wan_net ;;
        lan) ns=$vm_nat_ns; net=$vm_lan_net; gw=$vm_lan_gw ;;
        *) echo "vm_boot: side must be wan or lan"; return 1 ;;
    esac
    [ -n "$ns" ] || { echo "vm_boot: call vm_net first"; return 1; }
    [ -n "$vm_kernel" ] || { echo "vm_boot: call vm_need first"; return 1; }
    vm_count=$((vm_count + 1))
    [ -n "$addr" ] || addr=$net.$((9 + vm_count))
    local d=$work/vm-$name tap=t$vm_tag$vm_count
    mkdir -p "$d/cmd" "$d/guest"
    cp "$vm_src"/guest/*.sh "$d/guest/"
    {
        echo "VM_NAME=$name"
        echo "VM_ADDR=$addr/24"
        echo "VM_GW=$gw"
    } >"$d/vm.env"
    ip -n "$ns" tuntap add dev "$tap" mode tap || { echo "vm_boot: cannot create tap $tap"; return 1; }
    ip -n "$ns" link set "$tap" master br0 up
    rm -f "$d/ctl.in" "$d/ctl.out"
    mkfifo "$d/ctl.in" "$d/ctl.out"
    : >"$d/status.log"
    local mac
    mac=$(printf '52:54:00:97:%02x:%02x' "$((vm_tag % 256))" "$vm_count")
    vm_t0[$name]=$(date +%s.%N)
    ip netns exec "$ns" qemu-system-x86_64 \
        -name "l2sec-$name" -accel "${L2SEC_VM_ACCEL:-tcg}" -M pc -cpu max -m "$mem" -smp 1 \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$vm_kernel" -initrd "$vm_initrd" \
        -append "console=ttyS0 mitigations=off pci=noacpi no_timer_check panic=-1 quiet loglevel=4 random.trust_cpu=on" \
        -serial "file:$d/console.log" \
        -device virtio-rng-pci \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs "local,path=$d,mount_tag=vm,security_model=none,multidevs=remap" \
        -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
        -device virtio-serial-pci -chardev "pipe,id=ctl,path=$d/ctl" \
        -device virtserialport,chardev=ctl,name=l2sec.ctl \
        >"$d/qemu.log" 2>&1 &
    vm_pid[$name]=$!
    pids+=("$!")
    cat "$d/ctl.out" >>"$d/status.log" &
    pids+=("$!")
    local fd
    exec {fd}<>"$d/ctl.in"
    vm_ctl[$name]=$fd
    vm_dir[$name]=$d
    vm_addr[$name]=$addr
    vm_tap[$name]=$tap
    vm_ns[$name]=$ns
    vm_names+=("$name")
    vm_seq[$name]=0
}
declare -gA vm_seq

# vm_alive NAME: true while its QEMU runs.
vm_alive() { kill -0 "${vm_pid[$1]}" 2>/dev/null; }

# vm_wait NAME PATTERN [SECONDS]: waits (default 60 s) for a status line of
# NAME matching the extended regexp "^PATTERN" ("STATUS ppp_up", "DONE 3 ");
# sets vm_line to it. False on timeout or when the VM is gone (says which).
vm_wait() {
    local name=$1 pat=$2 secs=${3:-60} f=${vm_dir[$1]}/status.log i
    for ((i = 0; i < secs * 10; i++)); do
        vm_line=$(grep -E -m 1 "^$pat" "$f" 2>/dev/null) && return 0
        if ! vm_alive "$name"; then
            vm_line=$(grep -E -m 1 "^$pat" "$f" 2>/dev/null) && return 0
            echo "vm $name: QEMU exited while waiting for '$pat'"
            return 1
        fi
        sleep 0.1
    done
    echo "vm $name: no '$pat' within $secs s"
    return 1
}

# vm_field LINE KEY: the value of KEY=value in a status line.
vm_field() {
    local w
    for w in $1; do
        [ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return 0; }
    done
    return 1
}

# vm_wait_ready NAME... [--timeout SECONDS]: waits for each VM's guest init
# ("STATUS ready"), printing its boot time; on failure prints the console.
vm_wait_ready() {
    local name secs=90
    for name in "$@"; do
        if ! vm_wait "$name" "STATUS ready" "$secs"; then
            echo "--- console of $name:"
            tail -n 40 "${vm_dir[$name]}/console.log"
            cat "${vm_dir[$name]}/qemu.log"
            return 1
        fi
        vm_log "$name up: $(vm_field "$vm_line" uptime) s of guest uptime, $(vm_since "$name") s since start"
    done
}

# vm_since NAME: seconds since NAME's QEMU was started, e.g. 7.42.
vm_since() {
    local now
    now=$(date +%s.%N)
    awk -v a="${vm_t0[$1]}" -v b="$now" 'BEGIN { printf "%.2f", b - a }'
}

# vm_send NAME LINE: one control line to the guest.
vm_send() { echo "$2" >&"${vm_ctl[$1]}"; }

# vm_run_bg NAME COMMAND...: runs COMMAND (a shell command line; the guest's
# roles.sh functions are there) in the guest without waiting; sets vm_job to
# its id (for vm_job_wait). Output: ${vm_dir[NAME]}/cmd/ID.out.
vm_run_bg() {
    local name=$1
    shift
    vm_seq[$name]=$((vm_seq[$name] + 1))
    vm_job=${vm_seq[$name]}
    printf '%s\n' "$*" >"${vm_dir[$name]}/cmd/$vm_job.sh"
    vm_send "$name" "RUN $vm_job"
}

# vm_job_wait NAME ID SECONDS: waits for job ID; returns its exit status
# (124 on timeout).
vm_job_wait() {
    vm_wait "$1" "DONE $2 " "$3" || return 124
    local rc=${vm_line##* }
    return "$rc"
}

# vm_run NAME SECONDS COMMAND...: runs COMMAND in the guest, waits at most
# SECONDS, prints its output, returns its exit status (124 on timeout).
vm_run() {
    local name=$1 secs=$2 rc
    shift 2
    vm_run_bg "$name" "$@"
    vm_job_wait "$name" "$vm_job" "$secs"
    rc=$?
    cat "${vm_dir[$name]}/cmd/$vm_job.out" 2>/dev/null
    return $rc
}

# vm_stop NAME...: asks each guest to stop its daemons and power off; kills
# QEMU after 15 s if it is still there.
vm_stop() {
    local name i
    for name in "$@"; do
        vm_alive "$name" && vm_send "$name" POWEROFF
    done
    for name in "$@"; do
        for ((i = 0; i < 150; i++)); do
            vm_alive "$name" || break
            sleep 0.1
        done
        vm_alive "$name" && { echo "vm $name: no clean poweroff, killing QEMU"; stop_pids "${vm_pid[$name]}"; }
        wait "${vm_pid[$name]}" 2>/dev/null
    done
    return 0
}

# --- the L2TP/IPsec roles -------------------------------------------------------
#
# IKEv1 Main Mode and Quick Mode proposal lists (strongSwan syntax) of the
# clients the tests emulate (DESIGN.md, "What the real clients send"):
#   nm       NetworkManager-l2tp's own defaults since 1.2.16 (a merge of
#            Windows 10's and macOS/iOS's proposals)
#   windows  Windows 10/11: AES-256/SHA-1 on ECP-384, AES-128/SHA-1 on ECP-256,
#            AES-256/SHA-1 on MODP-2048, 3DES; Quick Mode AES-256, AES-128, 3DES with SHA-1
#   macos    macOS/iOS (racoon-derived): 14 Main Mode transforms; Quick Mode
#            AES-256/128/3DES x SHA-256/SHA-1/MD5
#   android  Android <= 11 (racoon): everything on MODP-1024; Quick Mode
#            AES-256/128/3DES x SHA-256/SHA-1/MD5. Its DES transforms are left
#            out: OpenSSL 3 (strongSwan's crypto here) has no single DES.
declare -gA vm_preset_ike vm_preset_esp
vm_preset_ike[nm]=aes256-sha256-modp2048,aes256-sha256-modp1536,aes256-sha256-modp1024,aes256-sha1-modp2048,aes256-sha1-modp1536,aes256-sha1-modp1024,aes256-sha1-ecp384,aes128-sha1-modp1024,aes128-sha1-ecp256,3des-sha1-modp2048,3des-sha1-modp1024
vm_preset_esp[nm]=aes256-sha1,aes128-sha1,3des-sha1
vm_preset_ike[windows]=aes256-sha1-ecp384,aes128-sha1-ecp256,aes256-sha1-modp2048,3des-sha1-modp2048
vm_preset_esp[windows]=aes256-sha1,aes128-sha1,3des-sha1
vm_preset_ike[macos]=aes256-sha256-modp2048,aes256-sha1-modp2048,aes256-md5-modp2048,aes256-sha512-modp2048,aes256-sha256-modp1536,aes256-sha1-modp1536,aes256-md5-modp1536,aes256-sha512-modp1536,aes256-sha256-modp1024,aes256-sha1-modp1024,aes256-md5-modp1024,aes256-sha512-modp1024,aes128-sha1-modp1024,3des-sha1-modp1024
vm_preset_esp[macos]=aes256-sha256,aes256-sha1,aes256-md5,aes128-sha256,aes128-sha1,aes128-md5,3des-sha256,3des-sha1,3des-md5
vm_preset_ike[android]=aes256-sha256-modp1024,aes256-sha1-modp1024,aes256-md5-modp1024,aes128-sha256-modp1024,aes128-sha1-modp1024,aes128-md5-modp1024,3des-sha256-modp1024,3des-sha1-modp1024,3des-md5-modp1024
vm_preset_esp[android]=aes256-sha256,aes256-sha1,aes256-md5,aes128-sha256,aes128-sha1,aes128-md5,3des-sha256,3des-sha1,3des-md5
# What the Linux server accepts by default: every proposal above.
vm_server_ike="${vm_preset_ike[nm]},${vm_preset_ike[macos]},${vm_preset_ike[android]},aes128-sha1-modp2048"
vm_server_esp="${vm_preset_esp[macos]},aes256gcm16,aes128gcm16"

# vm_params FILE KEY=VALUE...: writes the pairs as shell assignments.
vm_params() {
    local f=$1 kv
    shift
    : >"$f"
    for kv in "$@"; do
        case $kv in
            *=*) printf '%s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$f" ;;
            *) echo "vm: '$kv' is not KEY=VALUE"; return 1 ;;
        esac
    done
}

# vm_param KEY DEFAULT KEY=VALUE...: the value of KEY among the pairs.
vm_param() {
    local key=$1 value=$2 kv
    shift 2
    for kv in "$@"; do [ "${kv%%=*}" = "$key" ] && value=${kv#*=}; done
    echo "$value"
}

# vm_client_start NAME KEY=VALUE...: starts the Linux L2TP/IPsec client in VM
# NAME without waiting; sets vm_session (the session's name, s=) and vm_job.
# Keys (guest/roles.sh, client_run): server= (required), psk=, user=,
# password=, auth=mschapv2|chap|pap|any, preset=nm|windows|macos|android (the
# default is nm) or ike= and esp= (strongSwan proposal lists), ipsec=no (bare
# L2TP, no strongSwan), encap=yes (force UDP encapsulation), ping= (default:
# the PPP peer), count= (3), rekey=SECONDS (rekey the CHILD_SA that long after
# PPP came up, then ping again), hold=SECONDS (then tear down; default: stay
# up until vm_client_down), routes="PREFIX..." (through ppp), mtu=, mru=,
# log= (charon log levels, e.g. "default = 1, ike = 4, chd = 4" for keys),
# timeout= (for PPP, 60), s= (session name; default cN).
vm_client_start() {
    local name=$1 preset
    shift
    vm_seq_s[$name]=$((${vm_seq_s[$name]:-0} + 1))
    vm_session=$(vm_param s "c${vm_seq_s[$name]}" "$@")
    preset=$(vm_param preset nm "$@")
    [ -n "${vm_preset_ike[$preset]:-}" ] || { echo "vm_client: unknown preset $preset"; return 1; }
    vm_params "${vm_dir[$name]}/$vm_session.env" s="$vm_session" \
        ike="${vm_preset_ike[$preset]}" esp="${vm_preset_esp[$preset]}" "$@" || return 1
    vm_run_bg "$name" "client_run /run/vm/$vm_session.env"
    vm_client_job[$name.$vm_session]=$vm_job
}
declare -gA vm_seq_s vm_client_job

# vm_client_wait NAME SESSION [SECONDS]: waits for the client's run to end
# (PPP up, pings, rekey, hold: all that was asked); its exit status: 0 when
# everything asked for worked. On failure prints the guest's logs.
vm_client_wait() {
    local name=$1 s=$2 secs=${3:-150} rc
    vm_job_wait "$name" "${vm_client_job[$name.$s]}" "$secs"
    rc=$?
    [ $rc -eq 0 ] || vm_show_failure "$name" "$s"
    return $rc
}

# vm_client NAME KEY=VALUE...: vm_client_start, then vm_client_wait; sets
# vm_session. Then: vm_status NAME ppp_up "$vm_session" etc.
vm_client() {
    vm_client_start "$@" || return 1
    vm_client_wait "$1" "$vm_session" "$(vm_param timeout 60 "$@" | awk '{ print $1 + 90 }')"
}

# vm_client_down NAME SESSION: tears the session down (pppd, xl2tpd, charon).
vm_client_down() { vm_run "$1" 30 "session_down $2" >/dev/null; }

# vm_client_ping NAME SESSION TARGET [COUNT]: pings TARGET from a session
# that is up (hold=0); true when every echo was answered ("STATUS ping").
vm_client_ping() { vm_run "$1" 60 "ping_report $2 $3 ${4:-3}" >/dev/null; }

# vm_client_rekey NAME SESSION: a Quick Mode rekey of the session's CHILD_SA
# now; true when the new SA replaced the old ("STATUS rekey ... result=ok").
vm_client_rekey() { vm_run "$1" 60 "client_rekey $2" >/dev/null; }

# vm_server NAME KEY=VALUE...: starts the Linux L2TP/IPsec server in VM NAME
# and waits until it is ready; sets vm_session and vm_server_ip (its address).
# Keys (guest/roles.sh, server_run): psk=, users="name:password ...",
# auth= (which of mschapv2,chap,pap pppd accepts; default all three),
# ike=, esp= (default: every preset's proposals), ipsec=no (bare L2TP),
# local= (its PPP address, 10.97.8.1), pool= (10.97.8.10-10.97.8.99),
# behind= (an address on a dummy interface behind it, 10.97.9.1; empty: none),
# log=, s= (default: srv).
vm_server() {
    local name=$1
    shift
    vm_session=$(vm_param s srv "$@")
    vm_params "${vm_dir[$name]}/$vm_session.env" s="$vm_session" \
        ike="$vm_server_ike" esp="$vm_server_esp" "$@" || return 1
    if ! vm_run "$name" 30 "server_run /run/vm/$vm_session.env" >/dev/null; then
        vm_show_failure "$name" "$vm_session"
        return 1
    fi
    vm_server_ip=${vm_addr[$name]}
}

# vm_status NAME WHAT SESSION: the last "STATUS WHAT s=SESSION ..." line of
# NAME (false when there is none).
vm_status() {
    local line
    line=$(grep -E "^STATUS $2 s=$3 " "${vm_dir[$1]}/status.log" | tail -n 1)
    [ -n "$line" ] && echo "$line"
}

# vm_show_failure NAME SESSION: the status lines and the tails of the logs.
vm_show_failure() {
    local d=${vm_dir[$1]} f
    echo "--- $1: status lines"
    grep -v '^DONE' "$d/status.log" | tail -n 20
    for f in "$d/$2"/{charon.log,xl2tpd.log,pppd.log,swanctl.log} "$d"/cmd/*.out; do
        [ -s "$f" ] || continue
        echo "--- $1: ${f#"$d"/}"
        tail -n 25 "$f"
    done
}

# vm_pcap_count PCAP FILTER: how many packets of PCAP match the display filter
# (lib.sh's pcap_has stops reading early, which `set -o pipefail` sees as failure).
vm_pcap_count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }

# vm_esp_sa_uat NAME SESSION...: tshark options (one "-o" and one value per
# line) that decrypt the ESP of those client sessions: the SPIs and keys the
# guest kernel had (SESSION/xfrm.state), any address (behind NAT the
# captured addresses are not the kernel's). Use:
#   mapfile -t o < <(vm_esp_sa_uat client c1 c2); tshark -r X.pcap "${o[@]}" ...
vm_esp_sa_uat() {
    local name=$1 s
    shift
    printf '%s\n' -o esp.enable_encryption_decode:TRUE
    for s in "$@"; do cat "${vm_dir[$name]}/$s/xfrm.state" 2>/dev/null; done | awk '
        function out() {
            if (spi == "" || seen[spi]++) return
            printf "-o\nuat:esp_sa:\"IPv4\",\"*\",\"*\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", spi, enc, ekey, auth, akey
        }
        /^src / { out(); spi = ""; enc = ""; ekey = ""; auth = "NULL"; akey = "" }
        $1 == "proto" && $2 == "esp" { spi = $4 }
        $1 == "enc" {
            ekey = $3
            enc = $2 == "cbc(aes)" ? "AES-CBC [RFC3602]" : $2 == "cbc(des3_ede)" ? "TripleDES-CBC [RFC2451]" : $2
        }
        $1 == "aead" {
            ekey = $3
            enc = "AES-GCM with " $4 / 8 " octet ICV [RFC4106]"
        }
        $1 == "auth-trunc" {
            akey = $3
            if ($2 == "hmac(sha1)") auth = "HMAC-SHA-1-96 [RFC2404]"
            else if ($2 == "hmac(md5)") auth = "HMAC-MD5-96 [RFC2403]"
            else if ($2 == "hmac(sha256)") auth = "HMAC-SHA-256-128 [RFC4868]"
            else if ($2 == "hmac(sha384)") auth = "HMAC-SHA-384-192 [RFC4868]"
            else if ($2 == "hmac(sha512)") auth = "HMAC-SHA-512-256 [RFC4868]"
            else auth = $2
        }
        END { out() }'
}

# --- measuring ------------------------------------------------------------------

# vm_t NAME WHAT SESSION: the guest uptime (t=) of that status line.
vm_t() {
    local line
    line=$(vm_status "$1" "$2" "$3") || return 1
    vm_field "$line" t
}

# vm_phases NAME SESSION: one line with the client's phases, in seconds of
# guest time: IKE (Main + Quick Mode), L2TP+PPP (xl2tpd start to ip-up), the
# first ping run, and the negotiated suites.
vm_phases() {
    local n=$1 s=$2 a b c d line ike="" esp=""
    a=$(vm_t "$n" ipsec_start "$s")
    b=$(vm_t "$n" l2tp_start "$s")
    c=$(vm_t "$n" ppp_up "$s")
    d=$(grep -E "^STATUS ping s=$s " "${vm_dir[$n]}/status.log" | head -n 1)
    d=$(vm_field "$d" t)
    if line=$(vm_status "$n" ipsec_up "$s"); then
        ike=$(vm_field "$line" ike)
        esp=$(vm_field "$line" esp)
    fi
    awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v ike="$ike" -v esp="$esp" 'BEGIN {
        if (a != "") printf "IKE %.2f s (%s, %s), ", b - a, ike, esp
        printf "L2TP+PPP %.2f s", c - b
        if (d != "") printf ", %s", sprintf("3 pings %.2f s", d - c)
        printf "\n" }'
}

# vm_iccn_to_ipcp PCAP [TSHARK-OPTIONS...]: for each L2TP session in PCAP
# (plain L2TP on udp/1701, or inside ESP with the options that decrypt it),
# the time from ICCN to IPCP being up (the later of the two IPCP
# Configure-Acks) and to each side's first LCP Configure-Request, in ms, one
# line per session: "iccn_to_ipcp_ms=N lcp_first_ms=A/B" (A: the side that
# sent the ICCN, B: the other).
vm_iccn_to_ipcp() {
    local pcap=$1
    shift
    tshark -r "$pcap" "$@" -Y 'l2tp' -T fields -E 'separator=|' -E occurrence=f \
        -e frame.time_relative -e ip.src -e l2tp.avp.message_type -e ppp.protocol -e ppp.code 2>/dev/null |
        awk -F'|' '
        function flush() {
            if (iccn != "" && acks >= 2)
                printf "iccn_to_ipcp_ms=%d lcp_first_ms=%s/%s\n", (ipcp - iccn) * 1000,
                    lcp[lac] == "" ? "-" : sprintf("%d", (lcp[lac] - iccn) * 1000),
                    lcp[lns] == "" ? "-" : sprintf("%d", (lcp[lns] - iccn) * 1000)
            iccn = ""; acks = 0; delete lcp; delete acked
        }
        {
            t = $1; src = $2; mt = $3; proto = $4; code = $5
            if (mt == 12) { flush(); iccn = t; lac = src; next }
            if (iccn == "") next
            if (src != lac) lns = src
            if (proto == "0xc021" && code == 1 && lcp[src] == "") lcp[src] = t
            if (proto == "0x8021" && code == 2 && !acked[src]) { acked[src] = 1; acks++; ipcp = t }
        }
        END { flush() }'
}
