#!/bin/sh
# Writes the secrets the compose cluster and the Kubernetes manifests read, once, to a folder
# (never committed: .gitignore lists both):
#
#   packaging/make-secrets.sh packaging/compose/cluster/secrets
#   packaging/make-secrets.sh packaging/kubernetes/secrets
#
# Three files of 48 random hex characters: postgres_password, admin_token, hook_secret. Existing
# files are kept. Compose bind-mounts each file into /run/secrets/ with the host's owner and mode,
# and the gateway runs as uid 10001: so the folder is closed (700) and its files readable (644).
set -eu
if [ $# -ne 1 ]; then
  echo "usage: $0 <folder>" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
chmod 700 "$dir"
for name in postgres_password admin_token hook_secret; do
  if [ ! -s "$dir/$name" ]; then
    (umask 022 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$dir/$name")
    echo "wrote $dir/$name"
  fi
done
