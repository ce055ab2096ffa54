# lab_lock shared|exclusive: make check -j runs tests side by side, and a
# test that stops a lab service must not run next to one that needs it.
# Tests of the lab's Cinder take this lock shared, such a test exclusive.
# The test runs itself again under flock(1), which holds the lock and, with
# --close, keeps it from the test and its children: no daemon the test
# starts (a serving process, a restarted cinder-volume) can go on holding it.
lab_lock() {
	local mode=--shared

	[ "$1" = exclusive ] && mode=--exclusive
	[ -n "${CB_LAB_LOCK:-}" ] && return 0
	command -v flock > /dev/null || { echo "FAIL: flock is not installed" >&2; exit 1; }
	CB_LAB_LOCK=$1 exec flock "$mode" --close --timeout 1800 --conflict-exit-code 99 \
		"${TMPDIR:-/tmp}/cinder-brick-lab-tests.lock" bash "$0"
}
