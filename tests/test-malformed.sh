#!/usr/bin/env bash
# Hostile and broken clients (tests/malformed.py: bad magic, oversized and
# malformed options, unknown commands, oversized and out-of-range
# requests, wrapping offsets, half headers, hang-ups with requests in
# flight, garbage) get clean error replies or a hang-up of their own
# connection; after each one a well-behaved client still works and the
# server is alive.  Then it still shuts down cleanly.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdinfo qemu-io
cb_init

make_disk "$T/disk" 16M
make_ci "$T/disk"
start_unix --verbose

# malformed.py bounds every socket read; timeout bounds the whole run.
timeout 300 "$PY" "$TESTS_SRCDIR/malformed.py" --socket "$SOCK" --uri "$NBD_URI" \
	--pid "$SERVER_PID" > "$T/malformed.log" 2>&1
rc=$?
cat "$T/malformed.log"
[ $rc -eq 124 ] && fail "malformed.py timed out"
[ $rc -eq 0 ] || fail "malformed.py: some cases failed"
grep -q '^ok ' "$T/malformed.log" || fail "malformed.py ran no case"
assert_alive "$SERVER_PID" "after the malformed clients"
[ "$(timeout 60 nbdinfo --size "$NBD_URI")" = $((16 << 20)) ] || fail "nbdinfo at the end"
stop_server "$SERVER_PID"
exit 0
