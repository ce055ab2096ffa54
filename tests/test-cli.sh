#!/usr/bin/env bash
# The export command line: --help, usage errors (exit 2), runtime errors
# (exit 1) with messages that name the problem and leave nothing behind,
# the pidfile and socket lifecycle, and a clean exit 0 on SIGTERM/SIGINT,
# in daemon and in foreground mode, even with a client connected.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdinfo
require_pymod nbd
cb_init

make_disk "$T/disk" 4M
make_ci "$T/disk"
SOCK=$T/cli.sock

# run ARGS...: the command with its status in RC and output in $T/out, $T/err.
run() {
	timeout 60 "$CINDER_BRICK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	[ $RC -ne 124 ] || fail "cinder-brick $* hung"
}

# expect_status STATUS PATTERN ARGS...: exit status STATUS and stderr
# matching PATTERN (grep -E); nothing may be left behind.
expect_status() {
	local want=$1 pat=$2

	shift 2
	rm -f "$T/pid"
	run "$@"
	[ $RC -eq "$want" ] || { cat "$T/err" >&2; fail "cinder-brick $*: exit $RC, expected $want"; }
	grep -qE -- "$pat" "$T/err" || { cat "$T/err" >&2; fail "cinder-brick $*: stderr lacks '$pat'"; }
	[ ! -e "$T/pid" ] || fail "cinder-brick $*: pidfile left behind after a failure"
	[ ! -e "$SOCK" ] || fail "cinder-brick $*: socket left behind after a failure"
}

# --- help
run export --help
[ $RC -eq 0 ] || fail "export --help: exit $RC"
for opt in --connection-info --nbd unix:PATH tcp:HOST:PORT --fuse --loop --read-only \
	--direct-io --export-name --pidfile --backend-option --foreground --verbose \
	'Exit status'; do
	grep -qF -- "$opt" "$T/out" || fail "export --help does not mention $opt"
done
[ ! -s "$T/err" ] || fail "export --help wrote to stderr"
run --help
[ $RC -eq 0 ] && grep -q export "$T/out" || fail "cinder-brick --help"
run --version
[ $RC -eq 0 ] && grep -qE '^cinder-brick [0-9]' "$T/out" || fail "cinder-brick --version"

# --- usage errors: exit 2, before anything is started
NBD=(--nbd "unix:$SOCK")
CIA=(--connection-info "$T/ci.json")
expect_status 2 'Usage'
expect_status 2 "unknown command 'frobnicate'" frobnicate
expect_status 2 '--connection-info is required' export "${NBD[@]}" --pidfile "$T/pid"
expect_status 2 "'--bogus'" export "${CIA[@]}" "${NBD[@]}" --bogus --pidfile "$T/pid"
expect_status 2 "'foo:bar'" export "${CIA[@]}" --nbd foo:bar --pidfile "$T/pid"
expect_status 2 "'unix'" export "${CIA[@]}" --nbd unix --pidfile "$T/pid"
expect_status 2 "'/tmp/x.sock'" export "${CIA[@]}" --nbd /tmp/x.sock --pidfile "$T/pid"
expect_status 2 "'tcp:127.0.0.1'" export "${CIA[@]}" --nbd tcp:127.0.0.1 --pidfile "$T/pid"
expect_status 2 "'unix:'" export "${CIA[@]}" --nbd unix: --pidfile "$T/pid"
expect_status 2 'incomplete option' export "${CIA[@]}" --nbd
expect_status 2 'nothing to serve' export "${CIA[@]}" --pidfile "$T/pid"
expect_status 2 '--loop needs --fuse' export "${CIA[@]}" "${NBD[@]}" --loop --pidfile "$T/pid"
expect_status 2 "unexpected argument 'extra'" export "${CIA[@]}" "${NBD[@]}" extra
expect_status 2 'export-name' export "${CIA[@]}" "${NBD[@]}" \
	--export-name "$(head -c 4097 /dev/zero | tr '\0' n)"
grep -q "Try 'cinder-brick export --help'" "$T/err" || fail "usage errors do not point to --help"
# Backend options: a typo is refused before anything is opened, naming the
# key and what its backend takes.  The only backend option so far is rbd's.
expect_status 2 "'keyring' is not BACKEND.NAME" \
	export "${CIA[@]}" "${NBD[@]}" --backend-option keyring=/etc/x --pidfile "$T/pid"
expect_status 2 "takes NAME=VALUE, not 'rbd.keyring'" \
	export "${CIA[@]}" "${NBD[@]}" --backend-option rbd.keyring --pidfile "$T/pid"
if built rbd; then
	grep -qF -- "rbd.keyring" <("$CINDER_BRICK" export --help) ||
		fail "export --help does not list rbd.keyring"
	expect_status 2 "unknown backend option 'rbd.keyrnig': rbd takes keyring" \
		export "${CIA[@]}" "${NBD[@]}" --backend-option rbd.keyrnig=/etc/x --pidfile "$T/pid"
	expect_status 2 "no backend is called 'rdb' \(backends: file, rbd[,)]" \
		export "${CIA[@]}" "${NBD[@]}" --backend-option rdb.keyring=/etc/x --pidfile "$T/pid"
	expect_status 2 "'rbd.keyring' is empty" export "${CIA[@]}" "${NBD[@]}" \
		--rbd-keyring '' --pidfile "$T/pid"
fi

# --- runtime errors: exit 1, with a message naming the problem
make_ci "$T/no/such/volume" "$T/ci-missing.json"
expect_status 1 "$T/no/such/volume" export --connection-info "$T/ci-missing.json" \
	"${NBD[@]}" --pidfile "$T/pid"
expect_status 1 "$T/no/such/volume" export --connection-info "$T/ci-missing.json" \
	"${NBD[@]}" --pidfile "$T/pid" --foreground
printf '{"driver_volume_type": "local", "data": {"device_path": }\n' > "$T/ci-bad.json"
expect_status 1 "ci-bad.json.*(line 1|near)" export --connection-info "$T/ci-bad.json" \
	"${NBD[@]}" --pidfile "$T/pid"
expect_status 1 'stdin' export --connection-info - "${NBD[@]}" --pidfile "$T/pid" \
	< "$T/ci-bad.json"
expect_status 1 "$T/absent.json" export --connection-info "$T/absent.json" "${NBD[@]}" \
	--pidfile "$T/pid"
printf '{"driver_volume_type": "fibre_channel", "data": {"target_wwn": ["x"]}}\n' > "$T/ci-fc.json"
types=local
built rbd && types+=", rbd"
built nfs && types+=", nfs"
built iscsi && types+=", iscsi"
expect_status 1 "\"fibre_channel\" is not one cinder-brick can open \\(it can: $types\\)" \
	export --connection-info "$T/ci-fc.json" "${NBD[@]}" --pidfile "$T/pid"
printf '{"driver_volume_type": "local", "data": {}}\n' > "$T/ci-nopath.json"
expect_status 1 'device_path' export --connection-info "$T/ci-nopath.json" "${NBD[@]}" \
	--pidfile "$T/pid"
printf '{"data": {"device_path": "%s"}}\n' "$T/disk" > "$T/ci-notype.json"
expect_status 1 'driver_volume_type' export --connection-info "$T/ci-notype.json" \
	"${NBD[@]}" --pidfile "$T/pid"
make_ci "$T" "$T/ci-dir.json"
expect_status 1 "$T.*(directory|neither)" \
	export --connection-info "$T/ci-dir.json" "${NBD[@]}" --pidfile "$T/pid"
expect_status 1 "invalid TCP port '99999'" export "${CIA[@]}" --nbd tcp:127.0.0.1:99999 \
	--pidfile "$T/pid"
# A regular file where the socket should go is not ours to replace.
echo precious > "$T/file.sock"
expect_status 1 'not a socket' export "${CIA[@]}" --nbd "unix:$T/file.sock" --pidfile "$T/pid"
[ "$(cat "$T/file.sock")" = precious ] || fail "a regular file at the socket path was touched"
# A port already taken.
start_tcp
expect_status 1 "cannot bind 127.0.0.1:$PORT" export "${CIA[@]}" \
	--nbd "tcp:127.0.0.1:$PORT" --pidfile "$T/pid"
stop_server "$SERVER_PID"

# --- daemon mode: ready on return, pidfile and socket gone after SIGTERM
run export "${CIA[@]}" "${NBD[@]}" --pidfile "$T/pid"
[ $RC -eq 0 ] || { cat "$T/err" >&2; fail "daemon start: exit $RC"; }
[ "$(cat "$T/out")" = "nbd: nbd+unix:///?socket=$SOCK" ] || fail "daemon printed '$(cat "$T/out")'"
[ -S "$SOCK" ] || fail "no socket once the command returned"
pid=$(cat "$T/pid") || fail "no pidfile once the command returned"
SERVER_PIDS+=("$pid")
is_alive "$pid" || fail "the pidfile names no live process"
[ "$(timeout 60 nbdinfo --size "nbd+unix:///?socket=$SOCK")" = $((4 << 20)) ] ||
	fail "the daemon does not serve"
kill -TERM "$pid"
wait_gone "$pid" || fail "daemon did not exit within 30s of SIGTERM"
[ ! -e "$T/pid" ] || fail "pidfile left behind after SIGTERM"
[ ! -e "$SOCK" ] || fail "socket left behind after SIGTERM"

# SIGINT does the same, and a stale socket from a crash is replaced.
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not make a stale socket"
run export "${CIA[@]}" "${NBD[@]}" --pidfile "$T/pid"
[ $RC -eq 0 ] || { cat "$T/err" >&2; fail "start over a stale socket: exit $RC"; }
pid=$(cat "$T/pid")
SERVER_PIDS+=("$pid")
timeout 60 nbdinfo --size "nbd+unix:///?socket=$SOCK" > /dev/null || fail "serve over a stale socket"
kill -INT "$pid"
wait_gone "$pid" || fail "daemon did not exit within 30s of SIGINT"
[ ! -e "$T/pid" ] && [ ! -e "$SOCK" ] || fail "pidfile or socket left behind after SIGINT"

# Options of another backend than the volume's are no concern of its own.
if built rbd; then
	run export "${CIA[@]}" "${NBD[@]}" --pidfile "$T/pid" \
		--backend-option rbd.keyring=/nonexistent
	[ $RC -eq 0 ] || { cat "$T/err" >&2; fail "a local volume with an rbd option: exit $RC"; }
	SERVER_PIDS+=("$(cat "$T/pid")")
	stop_server "$(cat "$T/pid")"
fi

# The connection info can come from stdin.
# shellcheck disable=SC2217 # run is a function that passes stdin on
run export --connection-info - "${NBD[@]}" --pidfile "$T/pid" < "$T/ci.json"
[ $RC -eq 0 ] || { cat "$T/err" >&2; fail "--connection-info -: exit $RC"; }
pid=$(cat "$T/pid")
SERVER_PIDS+=("$pid")
stop_server "$pid"

# --- foreground mode: our child, so its exit status can be collected
# start_fg ARGS...: starts in the foreground and reads its first line of
# output (the endpoint) through a FIFO; a bounded read, not a delay.
start_fg() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo" || fail "mkfifo"
	"$CINDER_BRICK" export "${CIA[@]}" "${NBD[@]}" --foreground "$@" > "$T/fifo" 2> "$T/fg.err" &
	FG_PID=$!
	SERVER_PIDS+=("$FG_PID")
	exec 3< "$T/fifo"
	read -r -t 60 FG_LINE <&3 || { cat "$T/fg.err" >&2; fail "foreground server never became ready"; }
	[ "$FG_LINE" = "nbd: nbd+unix:///?socket=$SOCK" ] || fail "foreground printed '$FG_LINE'"
}

# stop_fg SIGNAL: the server must exit 0 and clean up.
stop_fg() {
	local rc=0

	kill -"$1" "$FG_PID"
	wait_gone "$FG_PID" || fail "foreground server did not exit within 30s of SIG$1"
	wait "$FG_PID" || rc=$?
	exec 3<&-
	[ $rc -eq 0 ] || { cat "$T/fg.err" >&2; fail "foreground server exited $rc on SIG$1"; }
	[ ! -e "$T/pid" ] || fail "pidfile left behind (foreground, SIG$1)"
	[ ! -e "$SOCK" ] || fail "socket left behind (foreground, SIG$1)"
}

start_fg --pidfile "$T/pid"
[ "$(cat "$T/pid")" = "$FG_PID" ] || fail "foreground pidfile does not hold the server's pid"
stop_fg TERM
start_fg
stop_fg INT

# SIGTERM with a client connected and idle: exit 0 promptly, and what the
# client wrote is on the disk.
start_fg --pidfile "$T/pid"
mkfifo "$T/cfifo"
"$PY" - "nbd+unix:///?socket=$SOCK" > "$T/cfifo" <<'EOF' &
import sys
import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
h.pwrite(b"\x7e" * 65536, 65536)
print("written", flush=True)
# Wait for the server to hang up on us.
try:
    while True:
        h.pread(512, 0)
except nbd.Error:
    pass
EOF
client=$!
read -r -t 60 line < "$T/cfifo" || fail "client never connected"
[ "$line" = written ] || fail "client said '$line'"
stop_fg TERM
wait_gone "$client" 300 || fail "client not disconnected by the server's exit"
wait "$client"
pattern_file "$T/want" 65536 126
cmp -s -i 65536:0 -n 65536 "$T/disk" "$T/want" || fail "the client's write is not on the disk"
exit 0
