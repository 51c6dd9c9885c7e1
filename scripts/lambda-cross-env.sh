# Source this before `cargo lambda build --arm64` or `sam build`:
#   . scripts/lambda-cross-env.sh && sam build
# librdkafka's bundled build runs its own ./configure and make, which read
# plain CC/CXX/AR (not the target-specific CC_aarch64_unknown_linux_gnu that
# cargo-zigbuild sets): point them at zig for arm64, keep host build scripts
# on the host compiler, and let zig's lld accept librdkafka's version script
# (make also links a shared library that rdkafka-sys does not use).
zig="$(command -v python3) -m ziglang"
export HOST_CC=gcc HOST_AR=ar
export CC="$zig cc -target aarch64-linux-gnu.2.17" CXX="$zig c++ -target aarch64-linux-gnu.2.17"
export AR="$zig ar" RANLIB="$zig ranlib"
export LDFLAGS="-Wl,--undefined-version"
unset zig
