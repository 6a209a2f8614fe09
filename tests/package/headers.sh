#!/usr/bin/env bash
# headers.sh CXX INCLUDE_DIR [EXTRA_FLAGS...]: every public header compiles on
# its own (includes what it uses), warning-free. Headers under crypto/botan/
# need Botan's include path, passed in EXTRA_FLAGS; they are skipped without it.
set -u
cxx=$1 inc=$2
shift 2
extra=("$@")
tu=$(mktemp --suffix=.cpp)
trap 'rm -f "$tu"' EXIT
failed=0 checked=0
# Headers under crypto/openssl* need OpenSSL 3's headers (system include path).
have_openssl=0
printf '#include <openssl/evp.h>\n' >"$tu"
"$cxx" -std=c++20 -fsyntax-only "$tu" 2>/dev/null && have_openssl=1
while IFS= read -r h; do
  rel=${h#"$inc"/}
  if [[ $rel == l2sec/crypto/botan* && ${#extra[@]} -eq 0 ]]; then
    echo "skip $rel (no Botan flags)"
    continue
  fi
  if [[ $rel == l2sec/crypto/openssl* && $have_openssl -eq 0 ]]; then
    echo "skip $rel (no OpenSSL headers)"
    continue
  fi
  printf '#include <%s>\n' "$rel" >"$tu"
  if ! "$cxx" -std=c++20 -I"$inc" "${extra[@]}" -fsyntax-only -Wall -Wextra -Wpedantic \
      -Wconversion -Wshadow -Werror "$tu"; then
    echo "FAIL: $rel does not compile on its own"
    failed=$((failed + 1))
  fi
  checked=$((checked + 1))
done < <(find "$inc/l2sec" -name '*.hpp' | sort)
echo "$checked headers checked, $failed failed"
[ "$failed" -eq 0 ]
