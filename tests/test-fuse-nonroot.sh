# A user without privileges can export through FUSE (no --loop): libfuse
# mounts through the setuid fusermount3, and unmounts the same way.
source "$(dirname "$0")/fuse-lib.sh"
fx_init
fx_require_root "switching to an unprivileged user"
command -v setpriv > /dev/null || fx_skip "setpriv is not installed"
command -v fusermount3 > /dev/null || fx_skip "fusermount3 is not installed: unprivileged FUSE mounts need it"
[ -u "$(command -v fusermount3)" ] || fx_skip "fusermount3 is not setuid root"

FX_AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
# The build may be where uid 65534 cannot go (a checkout below /root, mode
# 0700): it runs a copy in $T instead.
chmod 755 "$T"
install -m 0755 "$CINDER_BRICK" "$T/cinder-brick" || fx_fail "cannot copy $CINDER_BRICK to $T"
CINDER_BRICK=$T/cinder-brick
$FX_AS "$CINDER_BRICK" --version > /dev/null || fx_fail "uid 65534 cannot run $CINDER_BRICK"
# fusermount3 opens the device with the user's own rights on purpose.
$FX_AS test -r /dev/fuse -a -w /dev/fuse ||
	fx_skip "/dev/fuse is $(stat -c %A /dev/fuse): unprivileged FUSE is disabled on this host"

mkdir "$T/u"
chown 65534:65534 "$T/u"
T_USER=$T/u
$FX_AS truncate -s 16M "$T_USER/vol"
$FX_AS touch "$T_USER/mnt"
fx_conninfo "$T_USER/vol"
chmod 644 "$T/ci.json"
# The pidfile must be writable by the server's user.
chown 65534:65534 "$T"

fx_start --fuse "$T_USER/mnt"
awk -v m="$T_USER/mnt" '$5 == m' /proc/self/mountinfo | grep -q "user_id=65534" ||
	fx_fail "the mount is not owned by uid 65534"
[ "$($FX_AS stat -c %u "$FUSE_FILE")" = 65534 ] || fx_fail "the file is not owned by uid 65534"

head -c 2M /dev/urandom > "$T/data"
chmod 644 "$T/data"
$FX_AS dd if="$T/data" of="$FUSE_FILE" bs=1M seek=5 conv=notrunc status=none ||
	fx_fail "unprivileged write through FUSE"
cmp -n $((2 << 20)) <(tail -c +$((5 << 20 | 1)) "$T_USER/vol") "$T/data" ||
	fx_fail "data did not land in the backing file"
$FX_AS sh -c 'tail -c +$((5 << 20 | 1)) "$1" | cmp -n $((2 << 20)) - "$2"' sh \
	"$FUSE_FILE" "$T/data" || fx_fail "data does not read back through FUSE"

fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
