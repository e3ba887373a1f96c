#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter: first on PATH, then through pyenv.
# Exit 1 with a message that says what to install when none is found.
set -u
want="${1:?usage: find_python.sh X.Y}"
works() { "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] == tuple(map(int, '$want'.split('.'))) else 1)" >/dev/null 2>&1; }
for cand in "python$want" python3 python; do
  path=$(command -v "$cand" 2>/dev/null) || continue
  if works "$path"; then echo "$path"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  # pyenv shims refuse to run versions that are not selected, so ask pyenv for the prefix.
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -t. -k3 -n -r); do
    path="$(pyenv prefix "$v" 2>/dev/null)/bin/python$want"
    if works "$path"; then echo "$path"; exit 0; fi
  done
fi
cat >&2 <<MSG
error: Python $want was not found (looked on PATH for python$want and in pyenv).
  Opastin needs Python 3.10 for the Rasa server (Rasa 3.6.21 supports nothing newer)
  and Python 3.11 for the action server. Install the missing one, for example:
    pyenv install $want          # then run the command again
  or on Debian/Ubuntu:  apt-get install python$want python$want-venv
MSG
exit 1
