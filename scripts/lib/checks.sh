# Shared helpers for the black-box test scripts: one `ok - NAME` / `not ok - NAME` line per
# check, and a closing line `N passed, N failed`. Source it, call `check`, end with `finish`.
passed=0
failed=0

# check NAME COMMAND...: runs COMMAND; a zero exit passes. Returns 1 when it failed, after
# calling the suite's `on_failed_check NAME` if it defines one (to show a log, say).
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    if declare -F on_failed_check >/dev/null; then on_failed_check "$name"; fi
    return 1
  fi
}

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
