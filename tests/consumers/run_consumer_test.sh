#!/usr/bin/env bash
# Builds a tiny consumer project against obs the way a user would and runs it.
#
#   run_consumer_test.sh MODE [options]
#
# MODE is one of
#   subdirectory  add_subdirectory(<obs source> obs) + target_link_libraries(app PRIVATE obs::sdk)
#   find_package  cmake --install of the SDK into a temporary prefix, then find_package(obs CONFIG REQUIRED)
#   pkg-config    the same install, then g++ -std=c++20 $(pkg-config --cflags obs) app.cpp $(pkg-config --libs obs)
#
# Options (the ctest registration in CMakeLists.txt passes all of them):
#   --source-dir DIR    obs source tree (default: two levels above this script)
#   --cxx COMPILER      C++ compiler for the SDK and the consumer (default: $CXX or c++)
#   --build-type TYPE   build type for the SDK and the consumer (also --build-type=TYPE;
#                       default and empty: Release)
#   --cmake PATH        cmake executable (default: cmake)
#   --generator NAME    CMake generator (default: cmake's default)
#   --pkg-config PATH   pkg-config executable (default: pkg-config)
#
# Everything happens in a fresh mktemp -d directory, removed on exit unless
# OBS_KEEP_TMP=1 is set.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mode=${1:-}
[ $# -gt 0 ] && shift
source_dir=$(cd "$script_dir/../.." && pwd)
cxx=${CXX:-c++}
build_type=Release
cmake_exe=cmake
generator=
pkg_config=pkg-config

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --source-dir) source_dir=$2; shift 2 ;;
    --cxx) cxx=$2; shift 2 ;;
    --build-type) build_type=$2; shift 2 ;;
    --build-type=*) build_type=${1#--build-type=}; shift ;;
    --cmake) cmake_exe=$2; shift 2 ;;
    --generator) generator=$2; shift 2 ;;
    --pkg-config) pkg_config=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run_consumer_test.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case $mode in
  subdirectory|find_package|pkg-config) ;;
  *) echo "run_consumer_test.sh: MODE must be subdirectory, find_package or pkg-config (got '$mode')" >&2; usage ;;
esac
# An empty build type (e.g. from a multi-config generator's $<CONFIG>) means the default.
[ -n "$build_type" ] || build_type=Release

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-consumer-$mode.XXXXXX")
cleanup() {
  if [ "${OBS_KEEP_TMP:-0}" = 1 ]; then
    echo "[$mode] keeping $tmp (OBS_KEEP_TMP=1)"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
current_step=
log=$tmp/step.log

fail() {
  echo "[$mode] FAILED: $*" >&2
  exit 1
}

# step DESCRIPTION COMMAND...: runs COMMAND with its output captured; on
# failure prints the output and names the step that failed.
step() {
  current_step=$1
  shift
  echo "[$mode] $current_step"
  if ! "$@" >"$log" 2>&1; then
    echo "----- output of: $*" >&2
    cat "$log" >&2
    echo "-----" >&2
    fail "$current_step"
  fi
}

gen_args=()
[ -n "$generator" ] && gen_args=(-G "$generator")

echo "[$mode] source=$source_dir cxx=$cxx build-type=$build_type tmp=$tmp"

# Copies a consumer project (its CMakeLists.txt, if any, and app.cpp) into a
# directory of its own, outside the obs tree, as a user's project would be.
make_consumer() {
  mkdir -p "$tmp/consumer"
  cp "$script_dir/app.cpp" "$tmp/consumer/"
  if [ $# -gt 0 ]; then
    cp "$script_dir/$1/CMakeLists.txt" "$tmp/consumer/"
  fi
}

# Configures the SDK on its own, builds it and installs it into $tmp/prefix.
# The install prefix is chosen at install time (cmake --install --prefix),
# and differs from the configure-time CMAKE_INSTALL_PREFIX, as it does for
# anyone who builds once and installs elsewhere: the installed package must
# not depend on the configure-time prefix.
install_sdk() {
  prefix=$tmp/prefix
  step "configure the SDK alone" \
    "$cmake_exe" -S "$source_dir" -B "$tmp/sdk-build" "${gen_args[@]}" \
      -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_INSTALL_PREFIX="$tmp/configure-time-prefix" \
      -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=OFF
  step "build the SDK" "$cmake_exe" --build "$tmp/sdk-build" --config "$build_type" -j2
  step "install the SDK into $prefix" \
    "$cmake_exe" --install "$tmp/sdk-build" --config "$build_type" --prefix "$prefix"
  [ -f "$prefix/include/obs/obs.hpp" ] || fail "install did not put obs/obs.hpp under $prefix/include"
  [ -f "$prefix/lib/cmake/obs/obsConfig.cmake" ] || fail "install did not put obsConfig.cmake under $prefix/lib/cmake/obs"
  [ -f "$prefix/lib/pkgconfig/obs.pc" ] || fail "install did not put obs.pc under $prefix/lib/pkgconfig"
}

# Builds the consumer project in $tmp/consumer with CMake; extra arguments go
# to the configure step.
build_consumer_with_cmake() {
  step "configure the consumer project" \
    "$cmake_exe" -S "$tmp/consumer" -B "$tmp/consumer-build" "${gen_args[@]}" \
      -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_COMPILER="$cxx" "$@"
  step "build the consumer project" "$cmake_exe" --build "$tmp/consumer-build" --config "$build_type" -j2
  app=$(find "$tmp/consumer-build" -type f -name app -perm -u+x -print -quit)
  [ -n "$app" ] || fail "the consumer build produced no 'app' executable"
}

# The app must load libobs from DIR, not from some other installation.
check_libobs_from() {
  local dir=$1 line path
  command -v ldd >/dev/null || { echo "[$mode] (ldd not found; not checking which libobs is loaded)"; return 0; }
  line=$(ldd "$app" | grep 'libobs\.so' || true)
  [ -n "$line" ] || fail "app does not depend on libobs.so (ldd: $(ldd "$app" | tr '\n' ' '))"
  path=$(awk '{print $3}' <<<"$line")
  if [ "$path" = "not" ] || [ ! -e "$path" ]; then
    fail "libobs.so is not found at run time: $line"
  fi
  [ "$(dirname "$(realpath "$path")")" = "$(realpath "$dir")" ] ||
    fail "app loads $path, expected the libobs in $dir"
  echo "[$mode] app loads $path"
}

run_app() {
  current_step="run the consumer app"
  echo "[$mode] $current_step"
  local rc=0
  "$app" || rc=$?
  [ "$rc" -eq 0 ] || fail "the consumer app exited with status $rc (see its messages above)"
}

case $mode in
  subdirectory)
    make_consumer subdirectory
    build_consumer_with_cmake -DOBS_SOURCE_DIR="$source_dir"
    check_libobs_from "$(dirname "$(find "$tmp/consumer-build/obs" -name 'libobs.so' -print -quit)")"
    run_app
    ;;

  find_package)
    install_sdk
    make_consumer find_package
    build_consumer_with_cmake -DCMAKE_PREFIX_PATH="$prefix" -DOBS_EXPECTED_PREFIX="$prefix"
    check_libobs_from "$prefix/lib"
    run_app
    ;;

  pkg-config)
    install_sdk
    make_consumer
    export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
    step "pkg-config --exists obs" "$pkg_config" --exists --print-errors obs
    echo "[$mode] obs.pc: version $("$pkg_config" --modversion obs)," \
      "cflags '$("$pkg_config" --cflags obs)', libs '$("$pkg_config" --libs obs)'"
    includedir=$("$pkg_config" --variable=includedir obs)
    libdir=$("$pkg_config" --variable=libdir obs)
    [ -f "$includedir/obs/obs.hpp" ] ||
      fail "obs.pc says includedir=$includedir, which has no obs/obs.hpp; the SDK was installed in $prefix" \
        "(obs.pc must not hard-code the configure-time prefix)"
    [ -e "$libdir/libobs.so" ] ||
      fail "obs.pc says libdir=$libdir, which has no libobs.so; the SDK was installed in $prefix"
    case $build_type in
      Debug) opt_flags=(-g) ;;
      RelWithDebInfo) opt_flags=(-O2 -g -DNDEBUG) ;;
      MinSizeRel) opt_flags=(-Os -DNDEBUG) ;;
      *) opt_flags=(-O3 -DNDEBUG) ;;
    esac
    app=$tmp/consumer/app
    # Word splitting of pkg-config's output is intended, as in a Makefile.
    # shellcheck disable=SC2046
    step "compile app.cpp with \$(pkg-config --cflags/--libs obs)" \
      "$cxx" -std=c++20 -Wall -Wextra -Werror "${opt_flags[@]}" $("$pkg_config" --cflags obs) \
        "$tmp/consumer/app.cpp" -o "$app" $("$pkg_config" --libs obs) -Wl,-rpath,"$libdir"
    check_libobs_from "$prefix/lib"
    run_app
    ;;
esac

echo "[$mode] PASSED in $((SECONDS - start))s"
