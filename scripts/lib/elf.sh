# ELF checks shared by scripts/test-cli, scripts/build-image and scripts/bench (readelf, from
# binutils, which the Swift toolchain needs anyway).

# elf_is_pie FILE: FILE is a position-independent executable: ELF type DYN and a program
# interpreter (a shared library is DYN without one; a position-dependent executable is EXEC).
elf_is_pie() {
  local header
  header=$(readelf -h "$1" 2>/dev/null) || { echo "  readelf cannot read $1" >&2; return 1; }
  grep -Eq '^ *Type: +DYN ' <<<"$header" || { echo "  $1 is not position-independent: $(grep -E '^ *Type:' <<<"$header" | sed 's/^ *//; s/  */ /g')" >&2; return 1; }
  readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter' || { echo "  $1 has no program interpreter" >&2; return 1; }
}

# elf_is_position_dependent FILE: ELF type EXEC.
elf_is_position_dependent() { readelf -h "$1" 2>/dev/null | grep -Eq '^ *Type: +EXEC '; }

# elf_needs_none FILE PATTERN: none of FILE's NEEDED shared libraries matches PATTERN (grep -E).
elf_needs_none() {
  local needed
  needed=$(readelf -d "$1" 2>/dev/null | grep -F '(NEEDED)') || true
  ! grep -Eq -- "$2" <<<"$needed" || { echo "  $1 needs $(grep -Eo -- "\[[^]]*($2)[^]]*\]" <<<"$needed" | tr '\n' ' ')" >&2; return 1; }
}
