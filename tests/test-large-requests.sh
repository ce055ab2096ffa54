#!/usr/bin/env bash
# READs and WRITEs of up to 64 MiB from clients that negotiate no block
# size, as the NBD project's own tester sends them (its integrityhuge
# test): 50 MB written and read back with libnbd over NBD_OPT_GO without a
# block size request and over NBD_OPT_EXPORT_NAME, 64 MiB reads among
# small ones, 32 MiB still the limit for a client that negotiated it, and
# past 64 MiB a clean refusal that leaves the server serving
# (tests/large_requests.py).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
cb_init

make_disk "$T/disk" 160M
make_ci "$T/disk"
start_unix

timeout 300 "$PY" "$TESTS_SRCDIR/large_requests.py" "$SOCK" "$T/disk" > "$T/large.log" 2>&1
rc=$?
cat "$T/large.log"
[ $rc -eq 124 ] && fail "large_requests.py timed out"
[ $rc -eq 0 ] || fail "large_requests.py: some cases failed"
[ "$(grep -c '^ok - ' "$T/large.log")" -ge 19 ] || fail "large_requests.py ran fewer checks than it has"
assert_alive "$SERVER_PID" "after the large requests"
stop_server "$SERVER_PID"
exit 0
