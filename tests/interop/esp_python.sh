#!/usr/bin/env bash
# Interop: ESP packets built by another implementation (Python's
# `cryptography` for AES-GCM, ChaCha20-Poly1305 and AES-CBC, the standard
# library's hmac for HMAC-SHA1/SHA2/MD5, ESN and non-ESN) are opened by l2sec.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
BUILD=${L2SEC_BUILD:-$(dirname "$0")/../../build}
SRC=${L2SEC_SOURCE:-$(dirname "$0")/../..}
TEST_BIN="$BUILD/tests/l2sec-test-esp"
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 with the cryptography module (Debian python3-cryptography) is missing"
    exit 77
fi
need_built "$TEST_BIN" "build target l2sec-test-esp"
bound_runtime 120
make_workdir esp-python
timeout 60 /usr/bin/python3 "$SRC/tests/interop/esp_vectors.py" >"$work/vectors.txt"
echo "$(wc -l <"$work/vectors.txt") packets built by Python cryptography $(/usr/bin/python3 -c 'import cryptography; print(cryptography.__version__)')"
L2SEC_ESP_VECTORS="$work/vectors.txt" timeout 60 "$TEST_BIN" -tc="interop: open*" --success=false
echo "PASS: every packet opened by l2sec with the right payload, next header and sequence number"
