# Sourced by the other scripts: puts the pinned tools first on PATH and keeps wrangler offline.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Tools cargo installs live in ${CARGO_HOME:-$HOME/.cargo}/bin; never assume a fixed home.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$root/node_modules/.bin:$cargo_bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
