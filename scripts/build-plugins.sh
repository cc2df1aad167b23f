#!/usr/bin/env bash
# Builds floe's example plugins and test guests as WebAssembly components.
#
#   scripts/build-plugins.sh            # from anywhere
#
# Output (rustc for wasm32-wasip2 links components directly):
#   target/plugins/<name>.wasm               mask filter reshape route maxwell passthrough
#                                            canal dms dts
#   target/plugins/test-guests/<name>.wasm   spin hog trap escape wrong-world
#                                            future-version forbidden-import
# Extra arguments go to `cargo build` (e.g. --locked, --offline, -j 1).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="$root/target"
triple=wasm32-wasip2

if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx "$triple"; then
        rustup target add "$triple"
    fi
else
    echo "build-plugins: rustup not found; assuming the $triple target is installed" >&2
fi

cargo build --release --target "$triple" \
    --manifest-path "$root/plugins/Cargo.toml" \
    --target-dir "$target_dir" "$@"

built="$target_dir/$triple/release"
out="$target_dir/plugins"
mkdir -p "$out/test-guests"

# The first 8 bytes of a component: "\0asm", layer version 0x0d, layer 1.
component_magic="0061736d0d000100"

install() { # <built file name> <destination>
    local src="$built/$1" dst="$2"
    if [[ ! -f "$src" ]]; then
        echo "build-plugins: $src was not built" >&2
        exit 1
    fi
    local magic
    magic="$(head -c 8 "$src" | od -An -tx1 | tr -d ' \n')"
    if [[ "$magic" != "$component_magic" ]]; then
        echo "build-plugins: $src is not a component (starts with $magic)" >&2
        exit 1
    fi
    cp "$src" "$dst.tmp"
    mv "$dst.tmp" "$dst"
    printf '  %-50s %8d bytes\n' "${dst#"$root"/}" "$(wc -c <"$dst")"
}

for name in mask filter reshape route maxwell canal dms dts passthrough; do
    install "floe_plugin_${name}.wasm" "$out/$name.wasm"
done
for name in spin hog trap escape future-version forbidden-import; do
    install "floe_test_${name//-/_}.wasm" "$out/test-guests/$name.wasm"
done
install "wrong-world.wasm" "$out/test-guests/wrong-world.wasm"
