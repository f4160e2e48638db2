# What vpn-init's JSON parser costs against FoundationEssentials' JSONDecoder: three tiny
# programs (scripts/bench-lib/json-cost/*/main.swift), built and linked as vpn-init is (release
# optimisation, static Swift standard library, static libstdc++ and libgcc, -no-pie) and stripped
# as in the image:
#   base        prints a line and parses nothing: the runtime alone
#   own         parses an answer shaped like GetKey's with Sources/DstackAgent/JSON.swift itself
#               (compiled from the source tree, not a copy)
#   foundation  decodes the same answer with FoundationEssentials' JSONDecoder
# Records each one's size, then rounds of interleaved starts (benchproc starts: spawn to exit,
# stdout to /dev/null), the median of each round.
# Needs: $repo, $tools (benchproc), $work, $raw; common.sh sourced.

json_cost_flags=(-O -static-stdlib -L"$repo/build-support/static-libstdc++" -Xclang-linker -static-libgcc
  -Xclang-linker -no-pie)

# bench_json ROUNDS STARTS: ROUNDS rounds of STARTS starts of each program, interleaved.
bench_json() {
  local rounds=$1 starts=$2 dir=$work/json-cost sources=$bench_lib/json-cost variant round medians i
  local variants=(base own foundation)
  mkdir -p "$dir"
  for variant in "${variants[@]}"; do
    local inputs=("$sources/$variant/main.swift")
    [ "$variant" = own ] && inputs+=("$repo/Sources/DstackAgent/JSON.swift")
    swiftc "${json_cost_flags[@]}" -module-name "json_$variant" -o "$dir/$variant" "${inputs[@]}" \
      >"$work/json-$variant.log" 2>&1 || { note "json: $variant does not build:"; tail -n 10 "$work/json-$variant.log" >&2; return 1; }
    strip --strip-unneeded "$dir/$variant"
    [ "$("$dir/$variant")" = ok ] || { note "json: $variant does not print ok"; return 1; }
    record json_size "$variant" bytes "$(stat -c %s "$dir/$variant")"
  done
  # A discarded warm-up (page cache, the loader's first look at each file).
  "$tools/benchproc" starts 5 "$dir/base" "$dir/own" "$dir/foundation" >/dev/null || return 1
  for round in $(seq "$rounds"); do
    medians=($("$tools/benchproc" starts "$starts" "$dir/base" "$dir/own" "$dir/foundation")) ||
      { note "json: the starts failed"; return 1; }
    for i in 0 1 2; do
      record json_start "${variants[$i]}" ms "$(awk -v n="${medians[$i]}" 'BEGIN { printf "%.3f", n / 1e6 }')" \
        run="$round" starts="$starts"
    done
  done
}
