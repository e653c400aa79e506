#!/usr/bin/env bash
# libFuzzer runs of dasprov's readers of user input: the INI inventory reader (FuzzInventory),
# the DSL lexer and parser (FuzzDSL) and template compilation and rendering (FuzzTemplate).
#
#   bench/fuzz/run.sh            smoke run: 20 s per target (DASPROV_FUZZ_SECONDS overrides)
#   bench/fuzz/run.sh --long     10 min per target (make fuzz; DASPROV_FUZZ_SECONDS overrides)
#   bench/fuzz/run.sh TARGET…    only these targets (inventory, dsl, template)
#
# Seeds come from the repository (inventories, playbooks, modules, templates, the inventory test
# corpus); what libFuzzer finds is kept in bench/fuzz/corpus/ (not committed) for the next run.
# A crash leaves its input in bench/fuzz/crashes/ and fails the run: turn it into a unit test
# (Tests/*/FuzzRegressionTests.swift), fix it, then delete the file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${DASPROV_FUZZ_SECONDS:-20}
targets=()
for a in "$@"; do
  case $a in
    --long) seconds=${DASPROV_FUZZ_SECONDS:-600} ;;
    inventory|dsl|template) targets+=("$a") ;;
    *) echo "usage: $0 [--long] [inventory|dsl|template]…" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(inventory dsl template)

cd "$here"
echo "== building the fuzz targets (release, -sanitize=fuzzer)"
# lld: gold cannot link libFuzzer's driver next to SwiftPM's renamed main.
swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld 2>&1 | grep -E 'error|warning:|Compiling Fuzz|Build complete' || true
bin=$(swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --show-bin-path)

# Seeds, rebuilt from the repository every run.
seeds=$here/.build/seeds
rm -rf "$seeds"; mkdir -p "$seeds"/{inventory,dsl,template}
n=0
while IFS= read -r -d '' f; do n=$((n + 1)); cp "$f" "$seeds/inventory/$n.ini"; done < <(
  find "$root/Inventories" "$root/Tests/DasprovInventoryTests/Corpus" "$root/bench/inventory" -name '*.ini' -print0 2>/dev/null)
while IFS= read -r -d '' f; do n=$((n + 1)); cp "$f" "$seeds/dsl/$n.dasp"; done < <(
  find "$root/Playbooks" "$root/Modules" -name '*.dasp' -print0)
# A template input's first byte picks the escaping: even for XML, odd for text.
while IFS= read -r -d '' f; do
  n=$((n + 1))
  { if [[ $f == *.xml ]]; then printf 'X'; else printf 'Y'; fi; cat "$f"; } > "$seeds/template/$n"
done < <(find "$root/Modules" -path '*/templates/*' -type f -print0)
printf 'X<a>{%% for m in peers %%}<m h="{{ m.address }}">{{ m.port }}</m>{%% endfor %%}{%% if x %%}{{ y|raw }}{%% else %%}{{ z }}{%% endif %%}</a>\n' > "$seeds/template/inline"

mkdir -p "$here/crashes"
# Swift's own backtracer would catch the trap first; libFuzzer must see it to save the input.
export SWIFT_BACKTRACE=enable=no
status=0
summary=()
for t in "${targets[@]}"; do
  case $t in inventory) exe=FuzzInventory ;; dsl) exe=FuzzDSL ;; template) exe=FuzzTemplate ;; esac
  corpus=$here/corpus/$t
  mkdir -p "$corpus"
  log=$here/.build/$t.log
  echo "== $exe for ${seconds}s (log $log)"
  dict=(); [[ -f $here/dicts/$t.dict ]] && dict=(-dict="$here/dicts/$t.dict")
  if "$bin/$exe" "$corpus" "$seeds/$t" "${dict[@]}" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$here/crashes/$t-" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH: $(ls -t "$here/crashes/$t-"* 2>/dev/null | head -1)"
    status=1
    grep -E 'Swift runtime failure|Fatal error|ERROR: libFuzzer|SUMMARY' "$log" | head -5 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  summary+=("$(printf '%-9s %10s execs %7s/s  %-22s corpus %5s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)" "$result")")
done
echo
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
