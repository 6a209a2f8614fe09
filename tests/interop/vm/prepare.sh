#!/usr/bin/env bash
# Prepares the VM harness's kernel and initramfs in its cache
# ($L2SEC_VM_CACHE, default /var/cache/l2sec-vm): Debian's linux-image package
# (apt-get download), unpacked, depmod'ed, its ELF vmlinux extracted, and the
# busybox initramfs built. .ci/deps runs it; the VM tests do the same on
# their own when it has not run. Never fails: prints why the VM tests will
# skip instead.
set -uo pipefail
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=vm.sh
. "$(dirname "$0")/vm.sh"
if [ -z "$(vm_kernel_release)" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -q >/dev/null 2>&1  # no package lists yet: linux-image-amd64 is unknown
fi
out=$( (vm_need) 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
    kv=$(vm_kernel_release)
    echo "VM harness ready: kernel $kv in $vm_cache/$kv"
else
    echo "VM harness not ready, the VM tests will skip: ${out#SKIP: }"
fi
exit 0
