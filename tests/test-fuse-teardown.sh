# SIGTERM tears everything down even while a client still holds the FUSE
# file open: the server exits in bounded time, nothing stays mounted and no
# loop device stays attached.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

truncate -s 32M "$T/vol"
fx_conninfo "$T/vol"
mkdir "$T/mnt"
args=(--fuse "$T/mnt")
if [ "$(id -u)" -eq 0 ] && [ -c /dev/loop-control ]; then
	args+=(--loop)
else
	echo "not root or no loop driver: checking FUSE teardown only" >&2
fi

for sig in TERM INT; do
	fx_start_fg "${args[@]}"
	[ -n "$(fx_mounts_below_T)" ] || fx_fail "nothing mounted below $T"
	if [ -n "$LOOP_DEV" ]; then
		fx_loop_attached "$LOOP_DEV" "$FUSE_FILE" || fx_fail "$LOOP_DEV is not attached"
		dd if="$LOOP_DEV" of=/dev/null bs=1M count=4 iflag=direct status=none ||
			fx_fail "read from $LOOP_DEV"
	fi
	exec 4<> "$FUSE_FILE" || fx_fail "open $FUSE_FILE"
	kill -"$sig" "$SERVER_PID"
	fx_wait_exit "$SERVER_PID"
	[ "$EXIT_STATUS" = 0 ] || { cat "$T/fg.err" >&2; fx_fail "SIG$sig: exit $EXIT_STATUS"; }
	exec 4<&-
	fx_check_torn_down
done
exit 0
