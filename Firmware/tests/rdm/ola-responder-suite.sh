#!/usr/bin/env bash
# Runs OLA's independent RDM responder test suite (rdm_responder_test.py) against the
# emulated drivers, through olad's usbserial plugin and the emulated USB-Pro widget.
#
# Needs: root (olad runs as the `olad` user), Debian packages ola, ola-python and
# python3-numpy, and OLA's tools/rdm sources of the same version (0.10.9) laid out as a
# Python package: OLA_RDM_PYTHONPATH=DIR where DIR/ola/testing/rdm/rdm_responder_test.py
# exists (DIR/ola also needs ola/StringUtils.py from OLA's python/ola). Not run by CI because
# Debian does not package the suite.
#
# Usage: Firmware/tests/rdm/ola-responder-suite.sh [EMULATOR ARGS...]
#        (default: one healthy driver; e.g. `--drivers 1 --fault ack-timer:0`)
# Exit status: 0 when every driver passed every test that ran.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
emu="$here/build/ledsentry-emu"
suite="${OLA_RDM_PYTHONPATH:?set OLA_RDM_PYTHONPATH (see the comment at the top)}"
[ -x "$emu" ] || { echo "build the emulator first: make -C Firmware" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (olad is started as the olad user)" >&2; exit 2; }
if (exec 3<>/dev/tcp/127.0.0.1/9010) 2>/dev/null; then
    echo "an olad already listens on 127.0.0.1:9010 (one per machine): stop it first" >&2; exit 3
fi
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--drivers 1)

work=$(mktemp -d /tmp/ledsentry-ola-suite.XXXXXX)
chmod 777 "$work"; mkdir -m 777 "$work/dev" "$work/conf"
emu_pid=; olad_pid=
cleanup() {
    [ -n "$olad_pid" ] && kill "$olad_pid" 2>/dev/null && sleep 3
    [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$emu" --mode widget "${args[@]}" --list --link "$work/dev/ttyUSBsuite" > "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 50); do [ -L "$work/dev/ttyUSBsuite" ] && break; sleep 0.1; done
chmod 666 "$(readlink "$work/dev/ttyUSBsuite")"
printf 'device_dir = %s\ndevice_prefix = ttyUSB\nenabled = true\n' "$work/dev" > "$work/conf/ola-usbserial.conf"
for p in artnet dummy e131 espnet ftdidmx gpio karate kinet milinst opendmx openpixelcontrol osc \
         pathport renard sandnet shownet spi stageprofi uartdmx usbdmx; do
    echo "enabled = false" > "$work/conf/ola-$p.conf"
done
chmod 666 "$work"/conf/*
runuser -u olad -- olad -c "$work/conf" --no-http --no-register-with-dns-sd -l 3 > "$work/olad.log" 2>&1 &
olad_pid=$!
device=
for _ in $(seq 80); do
    device=$(ola_dev_info 2>/dev/null | sed -n 's/^Device \([0-9]*\): .*LEDSentry RDM widget.*/\1/p')
    [ -n "$device" ] && break
    sleep 0.25
done
[ -n "$device" ] || { echo "olad did not find the widget; see $work/olad.log" >&2; exit 3; }
ola_patch -d "$device" -p 0 -u 1
uids=
for _ in $(seq 20); do   # right after patching, the port may not have RDM enabled yet
    uids=$(ola_rdm_discover -u 1 --full 2>/dev/null || true)
    [ -n "$uids" ] && break
    sleep 0.5
done
[ -n "$uids" ] || { echo "OLA discovered no drivers; see $work/olad.log" >&2; exit 1; }
failed=0
for uid in $uids; do
    log="$work/suite-$uid.log"
    (cd /tmp && PYTHONPATH="$suite" /usr/bin/python3 "$suite/ola/testing/rdm/rdm_responder_test.py" -s -u 1 "$uid") > "$log" 2>&1 || true
    summary=$(grep -a "tests run" "$log" || echo "no summary (suite crashed?)")
    echo "$uid: $summary"
    sed -n '/-- Warnings --/,/-- By Category/p' "$log" | grep -v -- '-----' || true
    grep -a -E "Failed|Broken" "$log" | sed 's/\x1b\[[0-9;]*m//g' | sort -u | sed 's/^/  /' || true
    echo "$summary" | grep -q " 0 failed, 0 broken" || failed=1
done
exit $failed
