#!/usr/bin/env bash
# nbd_server_serve_fd(), the entry the kernel's NBD client needs: a socket
# handed over with no handshake is served in the transmission phase with
# simple replies (tests/serve_fd_client.c plays the kernel: WRITE, READ
# back, FLUSH, TRIM, pipelined READs, out-of-range and unaligned requests,
# a read-only session with a small block_max, DISC), the data lands in the
# file, bad presets are refused, and nbd_server_stop() disconnects such a
# client and takes no more.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init

PROG=$(dirname "$CINDER_BRICK")/tests/serve-fd-client
[ -x "$PROG" ] || fail "$PROG is not built (make check builds it)"
make_disk "$T/disk" 16M
timeout 120 "$PROG" "$T/disk" > "$T/out" 2> "$T/err"
rc=$?
cat "$T/out"
cat "$T/err" >&2
[ $rc -eq 124 ] && fail "serve-fd-client timed out"
[ $rc -eq 0 ] || fail "serve-fd-client failed"
[ "$(grep -c '^ok - ' "$T/out")" -ge 25 ] || fail "serve-fd-client ran fewer checks than it has"
exit 0
