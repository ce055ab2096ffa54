# Helpers for the tests of the rbd backend against the real Ceph of
# scripts/lab (skipped, exit 77, when no lab Ceph runs).  Sourced after
# lib.sh and cb_init; the test's EXIT trap calls rbd_release before
# cb_cleanup.
require_cmd ceph rbd
require_built rbd
require_lab
LAB=${LAB_STATE:-/var/lib/cinder-brick-lab}
CONF=$LAB/ceph/ceph.conf
CINDER_KEYRING=$LAB/ceph/ceph.client.cinder.keyring
[ -r "$CONF" ] || skip "no lab Ceph config at $CONF: run scripts/lab up"
[ -r "$CINDER_KEYRING" ] || skip "no $CINDER_KEYRING: run scripts/lab up"
timeout 10 ceph -c "$CONF" -s > /dev/null 2>&1 || skip "the lab's Ceph does not answer: run scripts/lab up"

IMAGES=()

# As admin, with the lab's own config: test fixtures, not the code under test.
lab_rbd() {
	timeout 120 rbd -c "$CONF" "$@"
}

# Servers hold the image open (a watch), so they go before rbd rm; the
# watch of one that did not close the image (killed, or its stop cut
# short) lasts until Ceph's watch timeout (30 s).  Keeps $? for
# cb_cleanup.
rbd_release() {
	local rc=$? p img

	for p in "${SERVER_PIDS[@]}"; do
		is_alive "$p" || continue
		kill -TERM "$p" 2> /dev/null
		wait_gone "$p" || kill -KILL "$p" 2> /dev/null
	done
	for img in "${IMAGES[@]}"; do
		wait_for 60 lab_rbd rm --no-progress "$img" > /dev/null 2>&1 ||
			echo "WARNING: could not remove the test image $img" >&2
	done
	return $rc
}

# new_image NAME SIZE: a fresh image, removed on exit; sets IMG.
new_image() {
	IMG=volumes/cbtest-$$-$1
	lab_rbd create --size "$2" "$IMG" || fail "cannot create $IMG"
	IMAGES+=("$IMG")
}

# The monitors as Cinder reports them: the v1 address of each, from ceph mon dump.
MONS=$(timeout 30 ceph -c "$CONF" mon dump -f json 2> /dev/null | "$PY" -c '
import json, sys
hosts, ports = [], []
for m in json.load(sys.stdin)["mons"]:
    for a in m["public_addrs"]["addrvec"]:
        if a["type"] == "v1":
            h, p = a["addr"].rsplit(":", 1)
            hosts.append(h.strip("[]"))
            ports.append(p)
print(json.dumps({"hosts": hosts, "ports": ports}))') || fail "cannot read the monitors"

# rbd_ci FILE IMAGE [JSON]: Cinder's connection_info for IMAGE, keys of
# the JSON object merged into data (null removes one).
rbd_ci() {
	"$PY" -c 'import json, sys
d = {"name": sys.argv[2], "cluster_name": "ceph", "auth_enabled": True,
     "auth_username": "cinder", "secret_type": "ceph", "discard": True,
     "qos_specs": None, "access_mode": "rw", "encrypted": False}
d.update(json.loads(sys.argv[3]))
d.update(json.loads(sys.argv[4] or "{}"))
d = {k: v for k, v in d.items() if v is not None}
json.dump({"driver_volume_type": "rbd", "data": d}, open(sys.argv[1], "w"))' \
		"$1" "$2" "$MONS" "${3-}" || fail "cannot write $1"
}

# nbd_py URI SCRIPT: a libnbd Python script with h connected to URI.
nbd_py() {
	timeout 120 "$PY" -c 'import errno, sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
exec(sys.argv[2])' "$1" "$2"
}

KEYRING_TEXT=$("$PY" -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' \
	"$CINDER_KEYRING") || fail "cannot read $CINDER_KEYRING"

# export_fails CI-FILE WHAT PATTERN [ARGS...]: the export (with ARGS)
# exits 1 at once, saying PATTERN.
export_fails() {
	local rc=0

	timeout 90 "$CINDER_BRICK" export --connection-info "$1" --nbd "unix:$T/never.sock" \
		"${@:4}" > "$T/fail.out" 2> "$T/fail.err" || rc=$?
	[ $rc -eq 1 ] || { cat "$T/fail.err" >&2; fail "$2: exit status $rc, expected 1"; }
	grep -q -- "$3" "$T/fail.err" || {
		cat "$T/fail.err" >&2
		fail "$2: the error does not say '$3'"
	}
	[ ! -e "$T/never.sock" ] || fail "$2: a socket was created"
	note "$2: $(cat "$T/fail.err")"
}

