#!/usr/bin/env bash
# Fails with instructions when no Python 3.10 interpreter was found (Rasa 3.6 needs 3.8-3.10).
interpreter="$1"
if [ -z "$interpreter" ] || ! "$interpreter" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  cat >&2 <<'MSG'
Python 3.10 is required (Rasa Open Source 3.6 runs on Python 3.8-3.10 only) and was not found.
Install it, then run the command again:
  with pyenv:   pyenv install 3.10      (this repository's .python-version selects it)
  on Debian/Ubuntu with deadsnakes: apt-get install python3.10 python3.10-venv
Or point make at an interpreter:  make PYTHON310=/path/to/python3.10 <target>
MSG
  exit 1
fi
