#!/usr/bin/env bash
# Creates $VENV and installs the pinned set, then deepcave the measured way.
set -euo pipefail
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "nashpo needs Python 3.11 (found $("$PYTHON" --version))" >&2; exit 1; }
# pyrfr (fANOVA in DeepCAVE) builds from source and needs swig.
if ! command -v swig >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq swig
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=24"
"$VENV/bin/pip" install -q -r envs/requirements.lock
# deepcave 1.4.1 declares Python <3.11 but works on 3.11; its pins are in the lock above.
"$VENV/bin/pip" install -q --no-deps --ignore-requires-python deepcave==1.4.1
"$VENV/bin/pip" install -q --no-deps -e .
"$VENV/bin/pip" check

# ---- DeepCAVE dashboard (`nashpo deepcave`) and its browser test -------------------------
# redis-server backs DeepCAVE's job queue; Debian's chromium + chromium-driver drive
# tests/test_dashboard.py headless (selenium is in the lock; nothing is downloaded at run time).
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
