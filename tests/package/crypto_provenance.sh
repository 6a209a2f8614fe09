#!/usr/bin/env bash
# crypto_provenance.sh BUILD_DIR SOURCE_DIR: where the examples' crypto and
# randomness come from.
#  1. Linked with a crypto library (OpenSSL, their default, or Botan), the
#     example programs contain no code from l2sec's
#     hand-written digests, HMAC, DES or OS-random fallback
#     (include/l2sec/crypto/detail/): their DWARF line tables, which list
#     inlined code too, have no row from those headers, and do have rows
#     from the OpenSSL or Botan backend. A test binary that runs the portable
#     known-answer suites is the positive control (the check can see them).
#  2. The production examples (l2sec-server, l2sec-client, l2sec-lns,
#     l2sec-lac, l2sec-inspect) contain
#     no code from the deterministic generator (testing/insecure_random.hpp);
#     only the in-memory demo uses it, by name.
#  3. No header outside include/l2sec/testing/ implements a pseudo-random
#     generator, and the insecure names appear only there and in the
#     in-memory network's impairments.
# Exit 77 (skip) when the examples were not built with a crypto library or readelf is missing.
set -u
build=$1 src=$2
fail=0
command -v readelf >/dev/null || { echo "SKIP: readelf not found"; exit 77; }
portable='crypto/detail/portable_digests\.hpp|crypto/detail/portable_des\.hpp|crypto/detail/portable_hmac\.hpp|crypto/detail/os_random\.hpp'
rows() { readelf --debug-dump=decodedline "$1" 2>/dev/null | grep -cE "$2"; }

examples=(server/l2sec-server client/l2sec-client l2tp_lns/l2sec-lns l2tp_lac/l2sec-lac demo/l2sec-demo
          inspect/l2sec-inspect inspect/l2sec-l2tp-gen)
library='botan/backend\.hpp|openssl/backend\.hpp|openssl/detail/'
for e in "${examples[@]}"; do
    [ -x "$build/examples/$e" ] || { echo "SKIP: $build/examples/$e not built"; exit 77; }
done
if [ "$(rows "$build/examples/l2tp_lns/l2sec-lns" "$library")" -eq 0 ]; then
    echo "SKIP: the examples are not linked with OpenSSL or Botan"
    exit 77
fi
control="$build/tests/l2sec-test-crypto"
if [ -x "$control" ]; then
    n=$(rows "$control" "$portable")
    echo "positive control: $(basename "$control") has $n line rows from crypto/detail/"
    [ "$n" -gt 0 ] || { echo "FAIL: the check cannot see portable code where it runs"; fail=1; }
fi
for e in "${examples[@]}"; do
    b="$build/examples/$e"
    p=$(rows "$b" "$portable") z=$(rows "$b" "$library") i=$(rows "$b" 'testing/insecure_random\.hpp')
    echo "$(basename "$b"): $p rows of hand-written crypto, $z rows of the OpenSSL/Botan backend, $i rows of the insecure generator"
    [ "$p" -eq 0 ] || { echo "FAIL: $(basename "$b") runs l2sec's hand-written crypto with a crypto library linked"; fail=1; }
    [ "$z" -gt 0 ] || { echo "FAIL: $(basename "$b") has no OpenSSL or Botan backend code"; fail=1; }
    if [ "$i" -gt 0 ] && [ "$e" != demo/l2sec-demo ]; then
        echo "FAIL: $(basename "$b") contains the deterministic generator"
        fail=1
    fi
done

cd "$src/include/l2sec" || exit 1
gen=$(grep -rnE 'splitmix|xorshift|mt19937|minstd_rand|ranlux|std::rand\(|random_device|\bsrand\(' --include='*.hpp' . |
      grep -v '^\./testing/' | grep -v 'testing::insecure_')
if [ -n "$gen" ]; then
    echo "FAIL: a pseudo-random generator outside include/l2sec/testing/:"
    echo "$gen"
    fail=1
fi
names=$(grep -rn 'insecure_' --include='*.hpp' . | grep -v '^\./testing/' |
        grep -v '^\./transport/memory_network\.hpp:' | grep -vE '^[^:]*:[0-9]+: *//')
if [ -n "$names" ]; then
    echo "FAIL: the insecure generator is used outside testing/ and the in-memory network:"
    echo "$names"
    fail=1
fi
[ "$fail" -eq 0 ] && echo "OK: the crypto library's crypto in the examples; no insecure generator outside testing/"
exit "$fail"
