#!/usr/bin/env bash
# fio's NBD engine writes randomly at high queue depth and verifies every
# block (crc32c): small, large and odd block sizes, and several
# connections at once.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd fio
cb_init

MiB=$((1 << 20))
make_disk "$T/disk" 16M
make_ci "$T/disk"
start_unix

# run_fio NAME WRITE-BYTES VERIFY-BYTES FIO-OPTIONS...: the job must end
# with no error, having written and then read back (verified) the amounts
# given, summed over its jobs.
run_fio() {
	local name=$1 want_w=$2 want_r=$3 out=$T/fio-$1.json got

	shift 3
	timeout 120 fio --name="$name" --ioengine=nbd --uri="$NBD_URI" \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--output-format=json --output="$out" "$@" > "$T/fio.log" 2>&1 || {
		cat "$T/fio.log" "$out" >&2
		fail "fio $name exited non-zero"
	}
	got=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(j["error"] for j in d["jobs"]),
      sum(j["write"]["io_bytes"] for j in d["jobs"]),
      sum(j["read"]["io_bytes"] for j in d["jobs"]))' "$out") || fail "fio $name: bad JSON"
	[ "$got" = "0 $want_w $want_r" ] ||
		fail "fio $name: errors/written/verified are '$got', expected '0 $want_w $want_r'"
	assert_alive "$SERVER_PID" "after fio $name"
}

SZ=$((16 * MiB))
run_fio rand4k $SZ $SZ --rw=randwrite --bs=4k --iodepth=32 --size=16M
run_fio rand1m $SZ $SZ --rw=randwrite --bs=1M --iodepth=32 --size=16M
# Not a multiple of 512: the server must not care about alignment.
run_fio odd $((7 * MiB)) $((7 * MiB)) --rw=randwrite --bs=3584 --iodepth=32 --size=7M
# Four connections on disjoint quarters, verifying while they write.
run_fio multi $SZ $SZ --rw=randwrite --bs=64k --iodepth=16 --numjobs=4 \
	--size=4M --offset_increment=4M --verify_backlog=32
stop_server "$SERVER_PID"
exit 0
