#!/usr/bin/env bash
# Sets everything up, builds, and runs every test: format check, the ASan+UBSan build of the
# tests, the fuzz targets for a bounded time, and the release build's ctest (whose summary is the
# closing line). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache shares objects across checkouts (CI clones elsewhere): paths relative to the root.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs=$(nproc)

scripts/setup.sh

echo "== clang-format"
scripts/check-format.sh

echo "== sanitizer build (ASan + UBSan)"
# -Werror gates the release build below; GCC 12 under -fsanitize raises false
# -Wmaybe-uninitialized in libstdc++'s <regex>, so the sanitizer build does not stop on warnings.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DACCTLAB_SANITIZE=ON -DACCTLAB_WERROR=OFF \
  -DACCTLAB_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
cmake --build build-asan -j "$jobs"
# The suites registered on both engines run their postgres:<case> twins in the release ctest
# only: the same test code, whose memory errors the SQLite run already exposes, at a third of
# CI's time under ASan. The PostgreSQL-only tests (writer, scopes, refusals) run here too.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure -LE "no-sanitizer" -E "^postgres:" \
  >build-asan/ctest.log \
  || { cat build-asan/ctest.log; exit 1; }
grep -E "tests passed|tests failed|Total Test time" build-asan/ctest.log

echo "== fuzz (libFuzzer, bounded)"
scripts/fuzz.sh "${ACCTLAB_FUZZ_SECONDS:-40}"

echo "== release build (-Wall -Wextra -Werror) and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure
