# tidemark_copy_jit_flags LIBDIR: sets the array copy_jit_flags to the copy commands' JVM flags
# (LIBDIR/copy-jit.flags, @LIB@ replaced by LIBDIR); empty, the JVM's defaults, when the flags or
# the directives file is missing. Bash builtins only. Sourced by bin/tidemark and bench scripts.
tidemark_copy_jit_flags() {
  local lib=$1 line
  copy_jit_flags=()
  [ -r "$lib/copy-jit.flags" ] && [ -r "$lib/copy-jit.json" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    copy_jit_flags+=("${line//@LIB@/$lib}")
  done < "$lib/copy-jit.flags"
}
