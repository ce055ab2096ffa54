# Helpers for the NBD integration tests (tests/test-*.sh).
#
# A test sources this file and calls cb_init, which gives it a private
# directory $T and an EXIT trap that stops every server it started, fails
# the test if a sanitizer wrote a report, and removes $T.  Servers run as
# real daemons: "ready" means the export command returned 0, never a delay.
#
# Environment (from automake's AM_TESTS_ENVIRONMENT):
#   CINDER_BRICK   the built binary
#   TESTS_SRCDIR   this directory, for helpers such as malformed.py

set -u
set -o pipefail

PY=/usr/bin/python3
SERVER_PIDS=()
NSERVERS=0

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
note() { echo "# $*" >&2; }

# require_cmd CMD...: skips the test when a client tool is missing.
require_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" > /dev/null 2>&1 || skip "$c is not installed"
	done
}

# require_pymod MODULE: the same for a module of /usr/bin/python3.
require_pymod() {
	"$PY" -c "import $1" 2> /dev/null || skip "python3 module $1 is not installed"
}

# built PART: whether this build has PART (rbd, fuse), which configure
# leaves out when asked to or when its -dev package is missing.
built() {
	local var=CB_HAVE_${1^^}

	[ "${!var:-yes}" != no ]
}

# require_built PART: skips the test when this build has no PART.
require_built() {
	built "$1" || skip "this build has no $1 (configure --without-$1, or its -dev package was missing)"
}

# require_lab: skips the test at once when scripts/test could not start the
# lab cloud (CB_LAB_DOWN says why), or when its Cinder or Keystone does not
# answer on 127.0.0.1.
require_lab() {
	[ -z "${CB_LAB_DOWN:-}" ] || skip "no lab cloud: $CB_LAB_DOWN"
	curl -s -o /dev/null -m 2 http://127.0.0.1:8776/ || skip "no Cinder on 127.0.0.1:8776: scripts/lab up"
	curl -s -o /dev/null -m 2 http://127.0.0.1:5000/v3 || skip "no Keystone on 127.0.0.1:5000: scripts/lab up"
}

cb_init() {
	[ -n "${CINDER_BRICK:-}" ] && [ -x "$CINDER_BRICK" ] ||
		fail "CINDER_BRICK must name the built cinder-brick binary"
	[ -n "${TESTS_SRCDIR:-}" ] && [ -d "$TESTS_SRCDIR" ] ||
		fail "TESTS_SRCDIR must name the tests directory"
	# Short, because a Unix socket path has to fit in 108 bytes.
	T=$(mktemp -d /tmp/cb-test.XXXXXX) || fail "mktemp"
	trap cb_cleanup EXIT
	# So that a test killed by a timeout still stops its servers.
	trap 'exit 143' TERM
	trap 'exit 130' INT
	# nbdsh runs "python3" from PATH, which may be a virtualenv or pyenv
	# interpreter without the libnbd bindings Debian installs for its own.
	mkdir "$T/bin" && ln -s "$PY" "$T/bin/python3" || fail "cannot set up $T/bin"
	PATH=$T/bin:$PATH
	# A daemon's stderr is /dev/null once it is ready, so ASan (and leak)
	# reports go to files that cb_check_sanitizers looks at.  GCC's UBSan
	# ignores log_path: with halt_on_error its findings show up as a dead
	# server; rerun the failing step with --foreground to read them.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/ubsan"
}

cb_check_sanitizers() {
	local f found=0

	for f in "$T"/asan.* "$T"/ubsan.*; do
		[ -e "$f" ] || continue
		echo "sanitizer report $f:" >&2
		cat "$f" >&2
		found=1
	done
	return $found
}

# A process that has exited but not been reaped still answers kill -0.
is_alive() {
	kill -0 "$1" 2> /dev/null || return 1
	[ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" != Z ]
}

# wait_gone PID [TENTHS]: a bounded wait (default 30s) for a process to go.
wait_gone() {
	local i max=${2:-300}

	for ((i = 0; i < max; i++)); do
		is_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# wait_for TENTHS CMD...: a bounded wait until CMD succeeds.
wait_for() {
	local i max=$1

	shift
	for ((i = 0; i < max; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

assert_alive() {
	is_alive "$1" || fail "server $1 died${2:+ ($2)}"
}

# make_disk PATH SIZE [random]: a sparse file of SIZE bytes (suffixes as
# truncate), or SIZE bytes of random data.
make_disk() {
	rm -f "$1"
	if [ "${3:-}" = random ]; then
		head -c "$2" /dev/urandom > "$1" || fail "cannot fill $1"
		[ "$(stat -c %s "$1")" -eq "$(numfmt --from=iec "$2")" ] ||
			fail "short random file $1"
	else
		truncate -s "$2" "$1" || fail "cannot create $1"
	fi
}

# start_fake_cinder LOG CONNINFO [VOLUME_ID]: tests/fake_cinder.py on a
# free port of 127.0.0.1, logging its requests to LOG and handing out the
# connection_info in CONNINFO for its one volume, with the OS_* environment
# pointed at it (noauth) and nothing else of the caller's.
start_fake_cinder() {
	"$PY" "$TESTS_SRCDIR/fake_cinder.py" "$T/port" "$1" "$2" ${3:+"$3"} &
	SERVER_PIDS+=("$!")
	wait_for 100 test -s "$T/port" || fail "the fake Cinder did not start"
	unset "${!OS_@}"
	export OS_AUTH_TYPE=noauth OS_PROJECT_ID=p1 OS_ENDPOINT=http://127.0.0.1:$(cat "$T/port")/v3
}

# make_ci DEVICE_PATH [JSONFILE]: connection_info for the local driver.
make_ci() {
	local out=${2:-$T/ci.json}

	printf '{"driver_volume_type":"local","data":{"device_path":"%s"}}\n' "$1" > "$out"
}

# try_server ARGS...: starts a daemon on $T/ci.json (or CONN_INFO=FILE)
# with a pidfile, and waits for nothing else: the command returns once the
# export is ready.  Returns the command's status; on success sets
# SERVER_PID, NBD_URI, PIDFILE and SERVER_OUT, and SERVER_ERR either way.
try_server() {
	local n=$((NSERVERS + 1))

	PIDFILE=$T/server$n.pid
	SERVER_OUT=$T/server$n.out
	SERVER_ERR=$T/server$n.err
	"$CINDER_BRICK" export --connection-info "${CONN_INFO:-$T/ci.json}" \
		--pidfile "$PIDFILE" "$@" > "$SERVER_OUT" 2> "$SERVER_ERR" || return
	NSERVERS=$n
	[ -s "$PIDFILE" ] || fail "no pidfile once the export was ready"
	SERVER_PID=$(cat "$PIDFILE")
	SERVER_PIDS+=("$SERVER_PID")
	is_alive "$SERVER_PID" || fail "server $SERVER_PID is not running once ready"
	NBD_URI=$(sed -n 's/^nbd: //p' "$SERVER_OUT")
	[ -n "$NBD_URI" ] || fail "the server printed no nbd: line"
}

# start_server ARGS...: try_server, failing the test if it fails.
start_server() {
	try_server "$@" || {
		cat "$SERVER_ERR" >&2
		fail "cinder-brick export $* failed"
	}
}

# start_unix ARGS...: start_server on a fresh socket below $T; sets SOCK.
start_unix() {
	SOCK=$T/nbd$((NSERVERS + 1)).sock
	start_server --nbd "unix:$SOCK" "$@"
	[ -S "$SOCK" ] || fail "no socket at $SOCK"
}

# start_fg ARGS...: the export in the foreground, as our child, its log
# (a backend's failures and recoveries) in SERVER_ERR; sets SERVER_PID
# and NBD_URI.
start_fg() {
	local n=$((NSERVERS + 1))

	NSERVERS=$n
	SERVER_OUT=$T/server$n.out
	SERVER_ERR=$T/server$n.err
	"$CINDER_BRICK" export --foreground --connection-info "${CONN_INFO:-$T/ci.json}" \
		--nbd "unix:$T/nbd$n.sock" "$@" > "$SERVER_OUT" 2> "$SERVER_ERR" &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	wait_for 300 grep -q '^nbd: ' "$SERVER_OUT" ||
		fail "export $* did not become ready: $(cat "$SERVER_ERR")"
	NBD_URI=$(sed -n 's/^nbd: //p' "$SERVER_OUT")
}

free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_tcp ARGS...: start_server on a free port of 127.0.0.1; sets PORT.
# Another process may take the port between probe and bind, so retry.
start_tcp() {
	local _

	for _ in 1 2 3 4 5; do
		PORT=$(free_port) || fail "cannot find a free port"
		try_server --nbd "tcp:127.0.0.1:$PORT" "$@" && return 0
		grep -q 'cannot bind' "$SERVER_ERR" || break
	done
	cat "$SERVER_ERR" >&2
	fail "cannot start a TCP server"
}

# stop_server PID: SIGTERM, a bounded wait for the exit, and a check that
# the daemon cleaned up after itself.
stop_server() {
	local pid=$1 pidfile

	# A sanitizer abort is the likeliest cause (see cb_init).
	is_alive "$pid" || fail "server $pid was already dead before SIGTERM"
	kill -TERM "$pid"
	wait_gone "$pid" || fail "server $pid did not exit within 30s of SIGTERM"
	for pidfile in "$T"/server*.pid; do
		[ -e "$pidfile" ] || continue
		[ "$(cat "$pidfile" 2> /dev/null)" != "$pid" ] ||
			fail "server $pid left its pidfile $pidfile behind"
	done
	cb_check_sanitizers || fail "sanitizer report from server $pid"
}

# stop_all_servers: SIGTERM to every server still there, then a bounded
# wait for each, SIGKILL for one that outstays it.
stop_all_servers() {
	local p

	for p in "${SERVER_PIDS[@]}"; do
		is_alive "$p" && kill -TERM "$p" 2> /dev/null
	done
	for p in "${SERVER_PIDS[@]}"; do
		wait_gone "$p" || kill -KILL "$p" 2> /dev/null
	done
}

# ext4_through DEVICE IMAGE: ext4 made and a file written on DEVICE (a
# block device over an export of IMAGE) mounted on $T/mnt, the server
# stopped, then the file read back from IMAGE itself.
ext4_through() {
	mkfs.ext4 -q "$1" && mount "$1" "$T/mnt" || fail "mkfs.ext4 or mount on $1"
	head -c 4M /dev/urandom > "$T/data"
	cp "$T/data" "$T/mnt/data" && umount "$T/mnt" || fail "writing ext4 on $1"
	stop_server "$SERVER_PID"
	mount -o loop,ro "$2" "$T/mnt" && cmp "$T/data" "$T/mnt/data" ||
		fail "the file written through $1 is not in $2"
	umount "$T/mnt"
}

cb_cleanup() {
	local rc=$?

	stop_all_servers
	if ! cb_check_sanitizers; then
		echo "FAIL: sanitizer report" >&2
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}

# unmount_cleanup DIR: the EXIT trap of a test that serves a volume from a
# file system it mounted at DIR: the server must be gone before the file
# system can go, and that before $T.
unmount_cleanup() {
	local rc=$?

	if [ -n "${SERVER_PID:-}" ] && is_alive "$SERVER_PID"; then
		kill -TERM "$SERVER_PID"
		wait_gone "$SERVER_PID"
	fi
	umount "$1"
	(exit $rc)
	cb_cleanup
}

# sha FILE: the checksum of a file, or of stdin with "-".
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# pattern_file PATH SIZE BYTE: SIZE bytes all equal to BYTE (0-255).
pattern_file() {
	head -c "$2" /dev/zero | tr '\0' "\\$(printf '%03o' "$3")" > "$1"
}

# export_json URI: nbdinfo --json for one export.
export_json() {
	timeout 60 nbdinfo --json "$1"
}

# jget JSON EXPR: a Python expression on the parsed document d (e is
# d["exports"][0] for nbdinfo --json), printed as JSON (true, false,
# numbers, lists) except that strings are bare.
jget() {
	"$PY" -c 'import json, sys
d = json.loads(sys.argv[1])
e = d["exports"][0] if isinstance(d, dict) and d.get("exports") else None
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}
