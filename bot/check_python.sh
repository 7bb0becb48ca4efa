#!/usr/bin/env bash
# Fails with instructions when the Python version make needs was not found.
# Usage: bot/check_python.sh 3.10|3.12 /path/to/interpreter
# 3.10 runs the Rasa engine only (Rasa 3.6 supports 3.8-3.10); 3.12 runs our own code.
version="$1"
interpreter="$2"
if [ -n "$interpreter" ] && "$interpreter" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$version'" 2>/dev/null; then
  exit 0
fi
var="PYTHON${version/./}"
role="our own code (actions, domain, staff API)"
[ "$version" = "3.10" ] && role="the Rasa engine (Rasa Open Source 3.6 runs on Python 3.8-3.10 only)"
cat >&2 <<MSG
Python $version is required for $role and was not found.
Install it, then run the command again:
  with pyenv:   pyenv install $version
  on Debian/Ubuntu with deadsnakes: apt-get install python$version python$version-venv
Or point make at an interpreter:  make $var=/path/to/python$version <target>
MSG
exit 1
