#!/usr/bin/env bash
# Feeds the hostile-file corpus to transferlab-cli. Every file must be refused (exit 2 or 3 with a
# message naming it) or read (exit 0), as cases.tsv says, within 10 s and 1 GiB of address space;
# a signal, a hang, or an allocation failure reported as the error fails the test.
# Usage: run_corpus.sh TRANSFERLAB_CLI CORPUS_DIR [NATIVE_CORPUS_GENERATOR]
set -uo pipefail
cli=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/make_corpus.py" "$dir" >/dev/null || { echo "run_corpus: generator failed"; exit 1; }
if [ $# -ge 3 ]; then "$3" "$dir" >/dev/null || { echo "run_corpus: native generator failed"; exit 1; }; fi
export TLAB_CACHE_DIR="$dir/.cache"
limit=$((1 << 30))
pass=0
fail=0
while IFS=$'\t' read -r name args expect; do
  file="$dir/$name"
  # shellcheck disable=SC2086
  set -- ${args//\{F\}/$file}
  start=$(date +%s%N)
  out=$(timeout -s KILL 10 prlimit --as=$limit -- "$cli" "$@" 2>&1)
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  verdict=ok
  if [ $rc -ge 124 ]; then
    verdict="killed or timed out (exit $rc)"
  elif echo "$out" | grep -qiE "bad_alloc|cannot allocate|out of memory|DefaultCPUAllocator"; then
    verdict="allocation failure reported as the error"
  elif [ "$expect" = refuse ]; then
    if [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
      verdict="expected a refusal (exit 2 or 3), got exit $rc"
    elif ! echo "$out" | grep -qF "$name"; then
      verdict="the message does not name the file"
    fi
  elif [ $rc -ne 0 ]; then
    verdict="expected it to be read (exit 0), got exit $rc"
  fi
  first=$(echo "$out" | grep -m1 -E "error|warning|skipped|kind" | cut -c1-160)
  if [ "$verdict" = ok ]; then
    pass=$((pass + 1))
    printf 'ok    %-32s %6d ms exit %d  %s\n' "$name" "$ms" "$rc" "$first"
  else
    fail=$((fail + 1))
    printf 'FAIL  %-32s %6d ms %s\n%s\n' "$name" "$ms" "$verdict" "$(echo "$out" | tail -5)"
  fi
done <"$dir/cases.tsv"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
