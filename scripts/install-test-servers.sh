#!/usr/bin/env bash
# Installs the real servers the integration tests start on loopback (nginx, Apache 2.4, Postfix,
# dnsmasq) plus openssl, curl and cmark (the Markdown reply tests), without letting the distribution's
# own services keep ports 25/53/80/443. Idempotent: a second run installs nothing and only stops services again.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
packages=(nginx apache2 postfix dnsmasq openssl curl)
# cmark renders the golden Markdown replies in the CLI tests (issue 9).
packages+=(cmark)
# hyperfine is only for bench/live/run.sh; install it when asked.
if [ "${KB_INSTALL_BENCH:-0}" = "1" ]; then packages+=(hyperfine); fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    # Postfix asks how to configure itself; the tests bring their own configuration.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string kb.invalid" | debconf-set-selections
    # Keep package scripts from starting daemons where a policy-rc.d is honoured (no systemd here).
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        created_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
fi

# Whatever did start must not hold the well-known ports the tests avoid anyway.
for s in nginx apache2 postfix dnsmasq; do
    service "$s" stop >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$s" >/dev/null 2>&1 || true; fi
done

for bin in /usr/sbin/nginx /usr/sbin/apache2 /usr/sbin/postfix /usr/lib/postfix/sbin/master /usr/sbin/dnsmasq /usr/bin/openssl /usr/bin/curl /usr/bin/cmark; do
    [ -x "$bin" ] || { echo "install-test-servers: $bin is missing after install" >&2; exit 1; }
done
echo "install-test-servers: nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///'), apache $(/usr/sbin/apache2 -v 2>/dev/null | sed -n 's/^Server version: Apache\/\([^ ]*\).*/\1/p'), postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null), dnsmasq $(/usr/sbin/dnsmasq --version | sed -n '1s/Dnsmasq version \([^ ]*\).*/\1/p')"
