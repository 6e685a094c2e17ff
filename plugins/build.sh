#!/usr/bin/env bash
# Builds the plugin workspace (SDK, examples, hostile test plugin) for wasm32-unknown-unknown in
# release mode, with whichever Rust toolchain has that target. Extra arguments go to cargo
# (e.g. `./build.sh -p sma_cross`). Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

target=wasm32-unknown-unknown
# Always build into plugins/target, whatever target directory the caller
# (e.g. the main crate's tests) has set for itself.
export CARGO_TARGET_DIR="$PWD/target"
# The caller's compiler settings are for the host crate, not for the plugins:
# under a coverage run (`cargo llvm-cov`, see .ci/run) the tests that call this
# script carry `-C instrument-coverage` in RUSTFLAGS or through a rustc wrapper,
# and wasm32 has no profiler runtime to link (error E0463). Flags meant for the
# plugins belong in their own Cargo.toml.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTDOCFLAGS CARGO_ENCODED_RUSTDOCFLAGS \
    RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTC_WRAPPER CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER \
    CARGO_BUILD_BUILD_DIR CARGO_BUILD_TARGET_DIR LLVM_PROFILE_FILE
for var in $(compgen -e); do
    case "$var" in
        CARGO_LLVM_COV* | __CARGO_LLVM_COV* | CARGO_TARGET_*_RUSTFLAGS) unset "$var" ;;
    esac
done
if command -v rustup >/dev/null 2>&1 && command -v cargo >/dev/null 2>&1 \
    && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    cargo=(cargo)
elif [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && [ -d "/usr/lib/rustlib/$target" ]; then
    # Debian's toolchain (rustc, cargo, libstd-rust-dev-wasm32).
    cargo=(env RUSTC=/usr/bin/rustc /usr/bin/cargo)
else
    cat >&2 <<MSG
build.sh: no Rust toolchain with the $target target was found. Get one with either:
  rustup target add $target                               # on a rustup toolchain
  apt-get install rustc cargo libstd-rust-dev-wasm32      # Debian / Ubuntu
MSG
    exit 2
fi

"${cargo[@]}" build --release --target "$target" "$@"

out="$PWD/target/$target/release"
found=0
for f in "$out"/*.wasm; do
    [ -e "$f" ] || continue
    echo "$f"
    found=1
done
if [ "$found" = 0 ]; then
    echo "build.sh: no .wasm files in $out" >&2
    exit 1
fi
