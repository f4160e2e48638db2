# Shared helpers for the black-box test scripts: one `ok - NAME` / `not ok - NAME` line per
# check, and a closing line `N passed, N failed`. Source it, call `check`, end with `finish`.
passed=0
failed=0

# check NAME COMMAND...: runs COMMAND; a zero exit passes. Returns 1 when it failed, after
# calling the suite's `on_failed_check NAME` if it defines one (to show a log, say).
# With CHECK_QUIET=1 the command runs in a subshell and its output (stdout and stderr) is shown,
# as `#   ` lines, only when it fails.
check() {
  local name=$1 output="" status=0
  shift
  if [ "${CHECK_QUIET:-}" = 1 ]; then output=$("$@" 2>&1) || status=$?; else "$@" || status=$?; fi
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    [ -z "$output" ] || sed 's/^/#   /' <<<"$output"
    if declare -F on_failed_check >/dev/null; then on_failed_check "$name"; fi
    return 1
  fi
}

# check_fails NAME COMMAND...: the check passes when COMMAND exits non-zero.
check_fails() {
  local name=$1
  shift
  check "$name" fails "$@"
}
fails() { if "$@"; then echo "  unexpectedly succeeded: $*" >&2; return 1; fi; }

# tool_checks TOOL...: one check per tool that must be on PATH.
tool_checks() {
  local tool
  for tool in "$@"; do check "tool $tool available" on_path "$tool"; done
}
on_path() { command -v "$1" >/dev/null || { echo "  $1 is not installed (scripts/bootstrap installs it)" >&2; return 1; }; }

# expect_status WANT COMMAND...: the command's exit status must be WANT.
expect_status() {
  local want=$1 got=0
  shift
  "$@" || got=$?
  [ "$got" -eq "$want" ] || { echo "  expected exit $want, got $got: $*" >&2; return 1; }
}

# contains FILE TEXT: the file contains TEXT (fixed string).
contains() { grep -qF -- "$2" "$1" || { echo "  $1 lacks: $2" >&2; sed 's/^/  | /' "$1" >&2; return 1; }; }
lacks() { ! grep -qF -- "$2" "$1" || { echo "  $1 must not contain: $2" >&2; return 1; }; }

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
