#!/usr/bin/env bash
# headers.sh CXX INCLUDE_DIR [EXTRA_FLAGS...]: every public header compiles on
# its own (includes what it uses), warning-free. Headers under crypto/botan/
# need Botan's include path, passed in EXTRA_FLAGS; they are skipped without it.
# The headers are checked in parallel, one compiler per core.
set -u
cxx=$1 inc=$2
shift 2
export L2SEC_HDR_CXX=$cxx L2SEC_HDR_INC=$inc L2SEC_HDR_EXTRA="$*"
check_one() {
  local h=$1 rel tu
  rel=${h#"$L2SEC_HDR_INC"/}
  if [[ $rel == l2sec/crypto/botan* && -z $L2SEC_HDR_EXTRA ]]; then
    echo "skip $rel (no Botan flags)"
    return 0
  fi
  tu=$(mktemp --suffix=.cpp)
  printf '#include <%s>\n' "$rel" >"$tu"
  # shellcheck disable=SC2086  # the extra flags are words
  if ! "$L2SEC_HDR_CXX" -std=c++20 -I"$L2SEC_HDR_INC" $L2SEC_HDR_EXTRA -fsyntax-only -Wall \
      -Wextra -Wpedantic -Wconversion -Wshadow -Werror "$tu"; then
    echo "FAIL: $rel does not compile on its own"
    rm -f "$tu"
    return 1
  fi
  rm -f "$tu"
}
export -f check_one
total=$(find "$inc/l2sec" -name '*.hpp' | wc -l)
if find "$inc/l2sec" -name '*.hpp' -print0 | sort -z |
    xargs -0 -P "$(nproc)" -I{} bash -c 'check_one "$1"' _ {}; then
  echo "$total headers checked, none failed"
else
  echo "some of $total headers failed (see FAIL lines)"
  exit 1
fi
