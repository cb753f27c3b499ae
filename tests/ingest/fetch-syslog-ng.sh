#!/bin/sh
# Unpacks Debian's syslog-ng-core and syslog-ng-mod-http, with the libraries they need that
# the machine lacks, into a folder of their own (no root, nothing installed system-wide).
# A system package would not do: syslog-ng and rsyslog (which `make bench` installs)
# conflict in Debian, so installing one removes the other.
# Usage: fetch-syslog-ng.sh DEST
set -eu
dest=$1
work="$dest.partial"
rm -rf "$work"
mkdir -p "$work/debs"

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The first alternative of each dependency of the packages named, without versions.
depends() {
  apt-cache show --no-all-versions "$@" | sed -n 's/^Pre-Depends: //p; s/^Depends: //p' \
    | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/[[:space:]]//g' | grep . | sort -u
}

wanted="syslog-ng-core syslog-ng-mod-http"
level=$wanted
# Two levels reach every library of these packages on Debian 12; deeper ones are libc's.
for _ in 1 2; do
  next=""
  for package in $(depends $level); do
    case " $wanted " in *" $package "*) continue ;; esac
    installed "$package" || next="$next $package"
  done
  [ -n "$next" ] || break
  wanted="$wanted$next"
  level=$next
done

(cd "$work/debs" && apt-get download $wanted)
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work"
done
rm -rf "$work/debs" "$dest"
mv "$work" "$dest"
echo "syslog-ng unpacked in $dest ($wanted)"
