# Helpers for the local-attach/local-detach tests (tests/test-attach-*.sh)
# against the real Keystone, Cinder and Ceph of scripts/lab, as the
# non-admin user demo.  Volumes are made and inspected with curl and the
# REST API (an openstack CLI call costs 1-2 s of CPU); each test deletes
# what it created, and force-detaches it first if a step failed.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99

LAB_CMD=$TESTS_SRCDIR/../scripts/lab
require_cmd curl jq losetup
[ "$(id -u)" = 0 ] || skip "local-attach needs root (FUSE mounts, loop devices)"
# The lab's volumes are RBD images, served through FUSE and a loop device.
require_built fuse
require_built rbd
[ -x "$LAB_CMD" ] || skip "no scripts/lab"
require_lab
. "$TESTS_SRCDIR/lab-lock.sh" || exit 99
lab_lock "${LAB_LOCK_MODE:-shared}"
LAB_RC=$("$LAB_CMD" env demo 2> /dev/null) || skip "scripts/lab env demo failed"
unset "${!OS_@}"
eval "$LAB_RC"
# The library reads OS_*; clouds.yaml would only repeat them.
unset OS_CLOUD OS_CLIENT_CONFIG_FILE
VOLUMES=()

# Keystone token and project of demo, once.
lab_login() {
	local body

	body=$(jq -n --arg u "$OS_USERNAME" --arg p "$OS_PASSWORD" --arg pr "$OS_PROJECT_NAME" \
		'{auth: {identity: {methods: ["password"], password: {user: {name: $u,
		domain: {name: "Default"}, password: $p}}}, scope: {project: {name: $pr,
		domain: {name: "Default"}}}}}')
	curl -s -m 30 -D "$T/tok.h" -o "$T/tok.json" -H 'Content-Type: application/json' \
		-d "$body" "$OS_AUTH_URL/auth/tokens" || fail "cannot reach Keystone"
	TOKEN=$(sed -n 's/^X-Subject-Token: \([^\r]*\).*/\1/ip' "$T/tok.h")
	[ -n "$TOKEN" ] || fail "no token: $(cat "$T/tok.json")"
	CINDER=http://127.0.0.1:8776/v3/$(jq -r .token.project.id "$T/tok.json")
}

# api METHOD PATH [BODY]: a Cinder call at microversion 3.44; the body on stdout.
api() {
	curl -s -m 60 -X "$1" -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
		-H 'OpenStack-API-Version: volume 3.44' ${3:+-d "$3"} "$CINDER$2"
}

vol_field() { api GET "/volumes/$1" | jq -r ".volume.$2"; }

# wait_status ID STATUS: a bounded wait (60 s).
wait_status() {
	local i s

	for ((i = 0; i < 300; i++)); do
		s=$(vol_field "$1" status)
		[ "$s" = "$2" ] && return 0
		[[ $s == error* ]] && fail "volume $1 is $s"
		sleep 0.2
	done
	fail "volume $1 is $s, not $2, after 60 s"
}

# new_volume NAME [TYPE]: creates a 1 GiB volume (of the default type, or of
# TYPE), waits for it; sets VOL.
new_volume() {
	local type=${2:+", \"volume_type\": \"$2\""}

	VOL=$(api POST /volumes "{\"volume\": {\"size\": 1, \"name\": \"$1\"$type}}" | jq -r .volume.id)
	[ -n "$VOL" ] && [ "$VOL" != null ] || fail "cannot create volume $1"
	VOLUMES+=("$VOL")
	wait_status "$VOL" available
}

# cb ARGS...: the command with its status in RC, its output in $T/out, $T/err.
cb() {
	timeout 120 "$CINDER_BRICK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	[ $RC -ne 124 ] || fail "cinder-brick $* hung"
}

# must ARGS...: cb, which must succeed.
must() {
	cb "$@"
	[ $RC -eq 0 ] || fail "cinder-brick $*: exit $RC: $(cat "$T/err")"
}

# must_fail STATUS PATTERN ARGS...: cb, which must exit STATUS with
# PATTERN (grep -E) in its error.
must_fail() {
	local want=$1 pat=$2

	shift 2
	cb "$@"
	[ $RC -eq "$want" ] || fail "cinder-brick $*: exit $RC, not $want: $(cat "$T/err")"
	grep -qE -- "$pat" "$T/err" || fail "cinder-brick $*: '$pat' not in: $(cat "$T/err")"
}

# attach ARGS... VOLUME: local-attach --json; sets DEV, PID, ATT.
attach() {
	must local-attach --json "$@"
	DEV=$(jq -r .device "$T/out")
	PID=$(jq -r .pid "$T/out")
	ATT=$(jq -r .attachment_id "$T/out")
	[ -b "$DEV" ] || fail "local-attach $*: $DEV is not a block device"
	is_alive "$PID" || fail "local-attach $*: the serving process $PID is not running"
	SERVER_PIDS+=("$PID")
}

# assert_clean ID: the volume is available with no attachment in Cinder,
# and nothing of it is left here: no state, process, loop or FUSE mount.
assert_clean() {
	local v

	wait_status "$1" available
	v=$(api GET "/volumes/$1")
	[ "$(jq '.volume.attachments | length' <<< "$v")" = 0 ] ||
		fail "volume $1 still has attachments: $(jq -c .volume.attachments <<< "$v")"
	[ "$(api GET "/attachments?volume_id=$1" | jq '.attachments | length')" = 0 ] ||
		fail "Cinder still lists an attachment of $1"
	[ ! -e "/run/cinder-brick/$1.json" ] && [ ! -e "/run/cinder-brick/$1" ] ||
		fail "local state of $1 left behind"
	! pgrep -f "/run/cinder-brick/$1/" > /dev/null || fail "a serving process of $1 is left"
	! losetup -a | grep -q "$1" || fail "a loop device of $1 is left: $(losetup -a)"
	! grep -q "$1" /proc/mounts || fail "a mount of $1 is left"
}

# token_entries: the CLI's cached Keystone tokens (/run/cinder-brick/tokens)
# of $OS_USERNAME at $OS_AUTH_URL.
token_entries() {
	local f url=${OS_AUTH_URL%/}

	for f in /run/cinder-brick/tokens/*.json; do
		[ -e "$f" ] || continue
		jq -e --arg u "$OS_USERNAME" --arg a "${url%/v3}/v3/auth/tokens" \
			'.identity.username == $u and .identity.auth_url == $a' "$f" > /dev/null &&
			echo "$f"
	done
}

attach_cleanup() {
	local rc=$? v

	for v in "${VOLUMES[@]}"; do
		if [ -e "/run/cinder-brick/$v.json" ]; then
			umount "$(jq -r .device "/run/cinder-brick/$v.json")" 2> /dev/null
			"$CINDER_BRICK" local-detach --force "$v" > /dev/null 2>&1
		fi
		api GET "/attachments?volume_id=$v" | jq -r '.attachments[].id' |
			while read -r a; do api DELETE "/attachments/$a" > /dev/null; done
		api DELETE "/volumes/$v" > /dev/null
	done
	(exit $rc)
	cb_cleanup
}

attach_init() {
	cb_init
	trap attach_cleanup EXIT
	lab_login
}
