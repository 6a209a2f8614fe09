# shellcheck shell=bash
# PID 1 of a harness guest, after the initramfs switched to the host's root
# (read-only, over 9p). Run by the host's bash from /run/vm/guest/init.sh:
# /run/vm is this VM's own directory on the host, shared read-write.
#
# The initramfs has made the guest's own writable places (tmpfs on /tmp,
# /etc/ppp, ...) and eth0 (from /run/vm/vm.env); this serves the control channel:
# a virtio-serial port ("l2sec.ctl") whose host end is a pair of FIFOs.
#   host -> guest:  "RUN <id>"   run /run/vm/cmd/<id>.sh (sourced in a background
#                                 subshell, output in /run/vm/cmd/<id>.out), then
#                                 report "DONE <id> <exit status>"
#                   "POWEROFF"   stop every process, power off
#   guest -> host:  "STATUS <what> [key=value...]" lines (see roles.sh), "DONE ..."
# Everything runs as functions of this shell and its subshells: a fork costs
# ~50 ms under TCG, an exec of a new program more.
read -r init_start _ </proc/uptime
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022

# shellcheck source=/dev/null
. /run/vm/vm.env
# shellcheck source=roles.sh
. /run/vm/guest/roles.sh

# The control port: /dev/vportNpM whose name is l2sec.ctl.
ctl=""
for p in /sys/class/virtio-ports/*; do
    read -r name <"$p/name" 2>/dev/null || continue
    [ "$name" = l2sec.ctl ] && ctl=/dev/${p##*/}
done
if [ -z "$ctl" ]; then
    echo "l2sec-guest: no control port" >/dev/console
    echo o >/proc/sysrq-trigger
fi
# The port can be open only once: this shell holds it, and every other writer
# goes through the FIFO that one cat forwards to it.
exec 3<>"$ctl"
mkfifo "$status_fifo"
exec 4<>"$status_fifo"
cat <&4 >&3 &

guest_hooks_install

read -r up _ </proc/uptime
read -r kv </proc/sys/kernel/osrelease
status ready "uptime=$up" "init=$init_start" "addr=${VM_ADDR%/*}" "kernel=$kv"

poweroff_now() {
    guest_stop_all
    echo o >/proc/sysrq-trigger
    sleep 5
}

while read -r cmd id _ <&3; do
    case $cmd in
        RUN)
            (
                exec >"/run/vm/cmd/$id.out" 2>&1 </dev/null
                # shellcheck source=/dev/null
                . "/run/vm/cmd/$id.sh"
                status_raw "DONE $id $?"
            ) &
            ;;
        POWEROFF)
            break
            ;;
    esac
done
poweroff_now
