#!/bin/sh
# Install what agentcore_sandbox needs for its strongest isolation level ("full") on a fresh
# Debian/Ubuntu machine, as root: bubblewrap (bwrap), util-linux's unshare (the "namespaces"
# fallback) and the system python3 that runs the sandboxed code (readable by the user nobody).
# Idempotent, quiet, and instant when everything is already there. Then checks that bwrap can
# really create its namespaces here (a container may forbid user namespaces).
set -eu

missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v unshare >/dev/null 2>&1 || missing="$missing util-linux"
[ -x /usr/bin/python3 ] || missing="$missing python3"

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-sandbox: missing:$missing; run this script as root (or: sudo apt-get install -y$missing)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only if they were never fetched or the install fails with them.
    if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

# Smoke test: the same namespaces the sandbox uses, as the unprivileged user it runs code as.
probe="bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev /usr/bin/python3 -I -S -c pass"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    probe="setpriv --reuid=65534 --regid=65534 --clear-groups $probe"
fi
if ! (cd / && $probe) >/dev/null 2>&1; then
    echo "install-sandbox: bubblewrap is installed but cannot create namespaces here" \
         "(user namespaces disabled? try: sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=15000;" \
         "in Docker: --security-opt seccomp=unconfined or --privileged). Tests of the full level will fail." >&2
    exit 1
fi
