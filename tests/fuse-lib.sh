# Helpers for the tests/test-fuse-*.sh integration tests.
#
# A test sources this, calls fx_init, and gets a private directory $T and an
# EXIT trap that stops its servers and undoes every mount and loop device,
# whether the test passed or not.  Servers are started either as daemons
# (ready when the command returns) or in the foreground through a FIFO
# (ready when their endpoint lines arrive), which is how a test gets at the
# exit status.

set -u
set -o pipefail

SERVER_PIDS=()
LOOP_DEVS=()
LOOP_FILES=()
EXT_MOUNTS=()

fx_skip() { echo "SKIP: $*" >&2; exit 77; }
fx_fail() { echo "FAIL: $*" >&2; exit 1; }

fx_init() {
	[ -n "${CINDER_BRICK:-}" ] && [ -x "$CINDER_BRICK" ] ||
		fx_fail "CINDER_BRICK must name the built cinder-brick binary"
	[ "${CB_HAVE_FUSE:-yes}" != no ] ||
		fx_skip "this build has no FUSE export (configure --without-fuse, or no libfuse3-dev)"
	[ -c /dev/fuse ] || fx_skip "no /dev/fuse: this kernel or container has no FUSE"
	T=$(mktemp -d /tmp/cb-fuse-test.XXXXXX) || fx_fail "mktemp"
	trap fx_cleanup EXIT
}

fx_require_root() {
	[ "$(id -u)" -eq 0 ] || fx_skip "$1 needs root"
}

fx_require_loop() {
	fx_require_root "loop devices"
	[ -c /dev/loop-control ] || fx_skip "no /dev/loop-control: loop driver missing"
}

# fx_conninfo VOLUME: writes $T/ci.json for the local driver.
fx_conninfo() {
	printf '{"driver_volume_type":"local","data":{"device_path":"%s"}}\n' "$1" > "$T/ci.json"
}

# A process that has exited but not been reaped still answers kill -0.
fx_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# fx_wait_gone PID: a bounded wait for a server to finish its teardown.
fx_wait_gone() {
	local i

	for ((i = 0; i < 300; i++)); do
		fx_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# fx_stop PID: SIGTERM, then fails the test unless the server exits in time.
fx_stop() {
	kill -TERM "$1" 2>/dev/null
	fx_wait_gone "$1" || fx_fail "server $1 did not exit within 30s of SIGTERM"
}

fx_parse_endpoints() {
	FUSE_FILE=$(sed -n 's/^fuse: //p' "$1")
	LOOP_DEV=$(sed -n 's/^loop: //p' "$1")
	[ -n "$FUSE_FILE" ] || fx_fail "the server printed no fuse: line"
	if [ -n "$LOOP_DEV" ]; then
		LOOP_DEVS+=("$LOOP_DEV")
		LOOP_FILES+=("$FUSE_FILE")
	fi
}

# fx_start ARGS...: daemon mode, with $T/ci.json and a pidfile.  Sets
# SERVER_PID, FUSE_FILE and LOOP_DEV.  Run as another user by setting
# FX_AS (a command prefix such as "setpriv --reuid=...").
fx_start() {
	${FX_AS:-} "$CINDER_BRICK" export --connection-info "$T/ci.json" \
		--pidfile "$T/pid" "$@" > "$T/start.out" 2> "$T/start.err" || {
		cat "$T/start.err" >&2
		fx_fail "export $* failed"
	}
	SERVER_PID=$(cat "$T/pid") || fx_fail "no pidfile once ready"
	SERVER_PIDS+=("$SERVER_PID")
	fx_parse_endpoints "$T/start.out"
}

# fx_start_fg ARGS...: foreground mode as our child, so that fx_exit_status
# can collect its exit status.  Same variables as fx_start.
fx_start_fg() {
	local want=1 line arg

	for arg in "$@"; do
		[ "$arg" = --loop ] && want=2
	done
	rm -f "$T/fifo" "$T/fg.out"
	mkfifo "$T/fifo" || fx_fail "mkfifo"
	"$CINDER_BRICK" export --foreground --connection-info "$T/ci.json" "$@" \
		> "$T/fifo" 2> "$T/fg.err" &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	exec 3< "$T/fifo"
	while ((want > 0)) && read -r line <&3; do
		echo "$line" >> "$T/fg.out"
		want=$((want - 1))
	done
	if ((want > 0)); then
		cat "$T/fg.err" >&2
		fx_fail "foreground export $* never became ready"
	fi
	fx_parse_endpoints "$T/fg.out"
}

# fx_wait_exit PID: sets EXIT_STATUS of a server started by fx_start_fg.
fx_wait_exit() {
	EXIT_STATUS=0
	fx_wait_gone "$1" || fx_fail "server $1 did not exit within 30s"
	wait "$1" || EXIT_STATUS=$?
	exec 3<&-
}

# FUSE (and any other) mounts below $T, deepest first.
fx_mounts_below_T() {
	awk -v t="$T/" 'index($5 "/", t) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# fx_loop_attached DEV FILE: DEV is a loop device on FILE.  Loop devices
# are the host's: once ours is detached, another test may get the same one.
fx_loop_attached() {
	[ "$(cat "/sys/block/${1#/dev/}/loop/backing_file" 2>/dev/null)" = "$2" ]
}

# fx_check_torn_down: no mount below $T and none of our loop devices left.
fx_check_torn_down() {
	local m i

	m=$(fx_mounts_below_T)
	[ -z "$m" ] || fx_fail "still mounted after teardown: $m"
	for i in "${!LOOP_DEVS[@]}"; do
		! fx_loop_attached "${LOOP_DEVS[i]}" "${LOOP_FILES[i]}" ||
			fx_fail "${LOOP_DEVS[i]} still attached after teardown"
	done
}

fx_cleanup() {
	local m p i

	for m in "${EXT_MOUNTS[@]}"; do
		mountpoint -q "$m" && umount "$m"
	done
	for p in "${SERVER_PIDS[@]}"; do
		if fx_alive "$p"; then
			kill -TERM "$p" 2>/dev/null
			fx_wait_gone "$p" || kill -KILL "$p" 2>/dev/null
		fi
	done
	for i in "${!LOOP_DEVS[@]}"; do
		fx_loop_attached "${LOOP_DEVS[i]}" "${LOOP_FILES[i]}" && losetup -d "${LOOP_DEVS[i]}"
	done
	for m in $(fx_mounts_below_T); do
		umount -l "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
	done
	rm -rf "$T"
}
