#!/bin/sh
# Run directly (not through a shell string), with the rendered arguments:
#   backup.sh <database> [--keep_days N]
set -eu
database=$1
echo "backing up $database (keeping ${3:-14} days)"
event dumped "database $database written"
