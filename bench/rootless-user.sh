#!/bin/sh
# Make (or remove) the user that `bench.py --rootless USER` runs the
# runtimes as: a normal account with a home and a subordinate uid/gid range
# (newuidmap is not needed by the bench's bundle, which maps the user's own
# IDs only, but the account then matches what rootless Podman users have).
#   bench/rootless-user.sh add berthbench
#   bench/rootless-user.sh del berthbench
set -eu
cmd=${1:?usage: $0 add|del NAME}
name=${2:?usage: $0 add|del NAME}
[ "$(id -u)" = 0 ] || { echo "$0: run as root" >&2; exit 1; }
case $cmd in
add)
    useradd -m -s /bin/sh "$name"
    # useradd gives a range only where login.defs says so; make sure of one.
    if ! grep -q "^$name:" /etc/subuid || ! grep -q "^$name:" /etc/subgid; then
        base=$((3000000 + $(id -u "$name") * 65536 % 1000000000))
        usermod --add-subuids "$base-$((base + 65535))" \
                --add-subgids "$base-$((base + 65535))" "$name"
    fi
    grep "^$name:" /etc/subuid /etc/subgid
    ;;
del)
    for f in subuid subgid; do
        grep "^$name:" /etc/$f | while IFS=: read -r _ a n; do
            usermod "--del-${f}s" "$a-$((a + n - 1))" "$name"
        done
    done
    userdel -r "$name" 2>/dev/null || userdel "$name"
    ;;
*)
    echo "usage: $0 add|del NAME" >&2; exit 1 ;;
esac
