#!/usr/bin/env bash
# --export-name NAME: that name works, any other is refused cleanly (an
# error from NBD_OPT_GO/INFO, a hang-up for NBD_OPT_EXPORT_NAME) without
# harming the server; without --export-name every name is accepted.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdinfo qemu-img qemu-io
cb_init

SIZE=$((4 << 20))
make_disk "$T/disk" $SIZE
make_ci "$T/disk"

# uri_for NAME: the socket URI for another export name.
uri_for() {
	echo "nbd+unix:///$1?socket=$SOCK"
}

# --- a named export
start_unix --export-name vol-7f3a
[ "$NBD_URI" = "$(uri_for vol-7f3a)" ] || fail "printed URI '$NBD_URI' lacks the name"
[ "$(timeout 60 nbdinfo --size "$NBD_URI")" = $SIZE ] || fail "the right name does not work"
J=$(timeout 60 nbdinfo --json "$NBD_URI") || fail "nbdinfo --json"
[ "$(jget "$J" 'e["export-name"]')" = vol-7f3a ] || fail "nbdinfo shows the wrong name"
timeout 60 qemu-io -f raw "$NBD_URI" -c 'write -P 0x61 0 4k' -c 'read -P 0x61 0 4k' \
	> /dev/null || fail "qemu-io with the right name"

for wrong in vol-7f3 vol-7f3a0 VOL-7F3A other ''; do
	out=$(timeout 60 nbdinfo "$(uri_for "$wrong")" 2>&1)
	rc=$?
	[ $rc -ne 124 ] || fail "nbdinfo with name '$wrong' hung"
	[ $rc -ne 0 ] || fail "nbdinfo accepted the wrong name '$wrong'"
	[ -n "$out" ] || fail "nbdinfo with name '$wrong' failed without a message"
	# libnbd reports the server's NBD_REP_ERR_UNKNOWN with the name.
	want="export: $wrong"
	[ -n "$wrong" ] || want="the default export"
	grep -qF -- "$want" <<< "$out" ||
		fail "unhelpful error for name '$wrong': $out"
	assert_alive "$SERVER_PID" "after the wrong name '$wrong'"
done
timeout 60 qemu-img info "$(uri_for wrong)" > /dev/null 2>&1 &&
	fail "qemu-img accepted a wrong name"
# Raw NBD_OPT_EXPORT_NAME (the server can only hang up) and GO/INFO with
# near-miss names, then the right name on the same connection.
timeout 120 "$PY" "$TESTS_SRCDIR/malformed.py" --socket "$SOCK" --uri "$NBD_URI" \
	--pid "$SERVER_PID" --export-name vol-7f3a \
	export_name_option export_name_wrong go_wrong_name || fail "raw export-name cases"
[ "$(timeout 60 nbdinfo --size "$NBD_URI")" = $SIZE ] || fail "right name after the wrong ones"
stop_server "$SERVER_PID"

# --- no --export-name: any name, including the empty one, is this export
start_unix
[ "$NBD_URI" = "$(uri_for '')" ] || fail "unexpected URI '$NBD_URI'"
for name in '' anything vol-7f3a "$(printf 'x%.0s' {1..200})"; do
	[ "$(timeout 60 nbdinfo --size "$(uri_for "$name")")" = $SIZE ] ||
		fail "name '$name' refused without --export-name"
done
timeout 60 qemu-io -f raw "$(uri_for some-name)" -c 'read -P 0x61 1k 3k' > /dev/null ||
	fail "qemu-io with an arbitrary name"
timeout 120 "$PY" "$TESTS_SRCDIR/malformed.py" --socket "$SOCK" --uri "$NBD_URI" \
	--pid "$SERVER_PID" --export-name whatever export_name_option ||
	fail "raw EXPORT_NAME with an arbitrary name"
stop_server "$SERVER_PID"
exit 0
