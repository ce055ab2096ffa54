# Helpers for the tests of a stop on storage that does not answer
# (tests/test-stop-bound*.sh).  Sourced after lib.sh and cb_init.
#
# The storage is frozen with SIGSTOP (a target, an OSD, a FUSE export that
# holds a volume's file) and always let go again (SIGCONT), whether the
# test passes or not: stop_cleanup (or stop_release) is in the EXIT trap.
# A stop of an export whose storage is frozen must end once its grace
# period is over, within SLACK seconds more.

GRACE=3
SLACK=4
FROZEN=()
WRITER_PIDS=()

# freeze PID: the storage process PID answers nothing until thaw_all.
freeze() {
	kill -STOP "$1" || fail "cannot freeze $1"
	FROZEN+=("$1")
}

thaw_all() {
	local p

	for p in "${FROZEN[@]}"; do
		kill -CONT "$p" 2> /dev/null
	done
	FROZEN=()
}

# stop_release: the storage let go first (a server stopping on it must
# not hang the cleanup, nor a frozen server miss its SIGTERM), the writers
# and servers stopped, no mount left below $T by a test that failed
# midway.  Keeps $? for the EXIT trap that calls it before its own
# cleanup (iscsi_cleanup); stop_cleanup, for one that has none.
stop_release() {
	local rc=$? p m

	thaw_all
	for p in "${WRITER_PIDS[@]}"; do
		kill -KILL "$p" 2> /dev/null
	done
	[ -z "${STOP_UNDO:-}" ] || $STOP_UNDO > /dev/null 2>&1
	stop_all_servers
	for m in $(awk -v t="$T/" 'index($5 "/", t) == 1 { print $5 }' /proc/self/mountinfo |
		   sort -r); do
		umount -l "$m"
	done
	return $rc
}

stop_cleanup() {
	stop_release
	cb_cleanup
}

# start_inflight_writes URI: 4 writes (4 KiB, FUA) sent to URI, not answered
# (tests/inflight_writes.py); sets WRITER_PID, its status in $T/writer.rc.
start_inflight_writes() {
	rm -f "$T/writer.ready" "$T/writer.rc"
	("$PY" "$TESTS_SRCDIR/inflight_writes.py" "$1" 4 "$T/writer.ready" 2> "$T/writer.err"
	 echo $? > "$T/writer.rc") &
	WRITER_PID=$!
	WRITER_PIDS+=("$WRITER_PID")
	wait_for 300 test -e "$T/writer.ready" ||
		fail "the writes never got in flight: $(cat "$T/writer.err" "$T/writer.rc" 2> /dev/null)"
}

# writer_failed: the writes of start_inflight_writes ended, in failure.
writer_failed() {
	wait_gone "$WRITER_PID" 100 || fail "the writer still waits after the stop"
	[ "$(cat "$T/writer.rc")" = 1 ] ||
		fail "the writer ended with status $(cat "$T/writer.rc"): $(cat "$T/writer.err")"
}

# stop_bounded PID ERR: SIGTERM to the export PID (our child), whose
# storage is frozen: it exits 1 once the grace period is over, not before,
# within SLACK seconds more, saying why in ERR.  Sets TOOK (seconds).
stop_bounded() {
	local pid=$1 err=$2 start rc=0

	start=$EPOCHREALTIME
	kill -TERM "$pid" || fail "export $pid is gone before its SIGTERM"
	wait_gone "$pid" $(((GRACE + SLACK) * 10)) ||
		fail "export $pid still runs $((GRACE + SLACK)) s after SIGTERM: $(cat "$err")"
	TOOK=$(bc <<< "$EPOCHREALTIME - $start")
	wait "$pid" || rc=$?
	[ "$rc" = 1 ] || fail "export $pid exited $rc after its stop was cut short: $(cat "$err")"
	[ "$(bc <<< "$TOOK >= $GRACE")" = 1 ] ||
		fail "export $pid ended after $TOOK s, before its grace period ($GRACE s)"
	grep -q "storage did not answer within the stop's grace period ($GRACE s)" "$err" ||
		fail "export $pid does not say why its stop was cut short: $(cat "$err")"
	note "stopped in $TOOK s"
}

# loop_on DEV FILE: the loop device DEV is attached to FILE; loop_off: not.
loop_on() {
	[ "$(cat "/sys/block/${1#/dev/}/loop/backing_file" 2> /dev/null)" = "$2" ]
}
loop_off() {
	! loop_on "$@"
}

# write_in_flight DEV: dd writing to the block device DEV, once the kernel
# counts a write in flight there; sets DD.
write_in_flight() {
	dd if=/dev/urandom of="$1" bs=64k count=16 oflag=direct status=none 2> /dev/null &
	DD=$!
	WRITER_PIDS+=("$DD")
	wait_for 300 grep -qv '^ *0 *0$' "/sys/block/${1#/dev/}/inflight" ||
		fail "no write in flight on $1"
}

# dd_failed: the dd of write_in_flight ended, in failure.
dd_failed() {
	wait_gone "$DD" 100 || fail "dd still writes after the stop"
	! wait "$DD" || fail "dd's write through a device that was let go succeeded"
}

# detach_bounded VOLUME PID DEV: local-detach of fake Cinder's "fakevol"
# (VOLUME), attached here (--export fuse) with PID serving DEV, a write in
# flight on it (write_in_flight) and its storage frozen: done within the
# grace period and SLACK s more, with the serving process, the loop
# device, the FUSE mount, the record and Cinder's attachment gone, the
# write failed.  Sets TOOK.
detach_bounded() {
	local start

	start=$EPOCHREALTIME
	timeout 120 "$CINDER_BRICK" local-detach fakevol > /dev/null 2> "$T/detach.err" ||
		fail "local-detach with the storage frozen: exit $?: $(cat "$T/detach.err")"
	TOOK=$(bc <<< "$EPOCHREALTIME - $start")
	[ "$(bc <<< "$TOOK < $GRACE + $SLACK")" = 1 ] ||
		fail "local-detach took $TOOK s, past the grace period and $SLACK s more"
	! is_alive "$2" || fail "the serving process $2 outlived local-detach"
	dd_failed
	grep -q "^DELETE /v3/p1/attachments/" "$T/cinder.log" ||
		fail "Cinder's attachment was not deleted"
	[ ! -e "/run/cinder-brick/$1.json" ] || fail "local-detach left the attachment's record"
	wait_for 50 loop_off "$3" "/run/cinder-brick/$1/disk" || fail "$3 is still attached"
	! grep -q " /run/cinder-brick/$1/" /proc/self/mountinfo || fail "a FUSE mount is left"
	note "detached in $TOOK s"
}
