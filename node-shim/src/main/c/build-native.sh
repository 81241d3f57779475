#!/bin/sh
# Builds the shim's JNI library (tidemark_sha256.c) into TARGET/native/linux/ARCH/, where
# bin/tidemark looks for it. Called by `./mvnw package` (node-shim/pom.xml) with the build's
# target directory and JDK. Without a C compiler it says so and builds nothing: the shim then
# hashes through the foreign function API or the JDK (slower start-up, same results).
set -eu
target=$1
jdk=$2
src=$(dirname "$0")/tidemark_sha256.c
case "$(uname -s)" in Linux) ;; *) echo "tidemark: JNI SHA-256 library is built on Linux only; skipped"; exit 0 ;; esac
case "$(uname -m)" in x86_64) arch=amd64 ;; *) arch=$(uname -m) ;; esac
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "tidemark: no C compiler ($cc): JNI SHA-256 library not built (archive-push starts slower)"
  exit 0
fi
out="$target/native/linux/$arch"
mkdir -p "$out"
"$cc" -O2 -shared -fPIC -Wall -Wextra -Werror -I"$jdk/include" -I"$jdk/include/linux" \
  -o "$out/libtidemark-sha256.so" "$src" -ldl
echo "tidemark: built $out/libtidemark-sha256.so"
