# shellcheck shell=bash
# The guest's side of the harness: status reporting and the L2TP/IPsec roles.
# Sourced once by init.sh; commands from the host run in subshells of it.
status_fifo=/run/l2sec/status.fifo

# status_raw LINE: one line to the host (through the FIFO init.sh forwards).
status_raw() { echo "$*" >"$status_fifo"; }

# status WHAT [KEY=VALUE...]: "STATUS WHAT KEY=VALUE..." with the guest uptime.
status() {
    local up
    read -r up _ </proc/uptime
    status_raw "STATUS $* t=$up"
}

guest_hooks_install() { :; }
guest_stop_all() { kill -TERM -1 2>/dev/null; }
