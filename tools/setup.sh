#!/usr/bin/env bash
# Install what intangibles needs on a fresh Debian/Ubuntu machine, only what is missing:
#  1. the system libraries, fonts and tools listed in instrument/system_requirements.tsv
#     (the same list `intangibles doctor` reports on): needs "required" and "test";
#  2. a virtual environment with the package and its test extra, at the versions the tests
#     passed with (requirements-lock.txt, used as pip constraints; `make lock` refreshes it).
# Idempotent; called by `make demo` and `make test`. Prints what it checked and what it did.
set -euo pipefail
venv="${1:-.venv}"
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
table="instrument/system_requirements.tsv"
lock="requirements-lock.txt"

present() {  # kind probe -> 0 when found on this machine
  case "$1" in
    lib)  ldconfig -p 2>/dev/null | grep -qF "$2 " ;;
    font) { fc-list 2>/dev/null | grep -qiF "$2"; } ||
          find /usr/share/fonts /usr/local/share/fonts 2>/dev/null -iname "${2// /}*.ttf" | grep -q . ;;
    tool) command -v "$2" >/dev/null 2>&1 ;;
    *)    return 1 ;;
  esac
}

missing=()   # "packages|alternatives" fields of the lines not satisfied
while IFS=$'\t' read -r need kind probe packages _fr what; do
  case "$need" in required|test) ;; *) continue ;; esac
  if present "$kind" "$probe"; then
    echo "intangibles setup: ok      $probe ($what)"
  else
    echo "intangibles setup: MISSING $probe ($what)"
    missing+=("$packages")
  fi
done < <(grep -v '^#' "$table" | grep -v '^[[:space:]]*$')

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq || true
    pkgs=()
    for field in "${missing[@]}"; do
      for choice in ${field//|/ }; do   # the first alternative apt knows (Debian 12 vs Ubuntu 24.04 names)
        if apt-cache show "$choice" >/dev/null 2>&1; then pkgs+=("$choice"); break; fi
      done
    done
    echo "intangibles setup: installing system packages: ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  else
    echo "intangibles setup: please install with your package manager: ${missing[*]//|/ or }" >&2
    exit 1
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -c "$lock" -e ".[test]"
touch "$venv/.installed"
echo "intangibles setup: done; 'intangibles doctor' reports what is installed and what is optional."
