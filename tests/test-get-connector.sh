#!/usr/bin/env bash
# get-connector: the os-brick connector fields, --json, the flags, the
# "ip" of --nic, a usage error, and the generated initiator name: made
# once when there is no /etc/iscsi/initiatorname.iscsi, kept 0644 in
# SYSCONFDIR/cinder-brick/initiatorname (configure --sysconfdir), the same
# on the next run (a private mount namespace gives the command an empty
# /etc and SYSCONFDIR, so the host's own files are not touched).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init

J=$("$CINDER_BRICK" get-connector --json) || fail "get-connector --json failed"
for key in platform os_type ip host multipath enforce_multipath initiator do_local_attach; do
	jget "$J" "d['$key']" > /dev/null || fail "no $key in $J"
done
[ "$(jget "$J" "d['platform']")" = "$(uname -m)" ] || fail "platform is not uname -m"
[ "$(jget "$J" "d['os_type']")" = linux ] || fail "os_type is not linux"
[ "$(jget "$J" "d['host']")" = "$(hostname)" ] || fail "host is not the hostname"
[ "$(jget "$J" "d['do_local_attach']")" = true ] || fail "do_local_attach is not true"
[ "$(jget "$J" "d['multipath']")" = false ] || fail "multipath is not false by default"
[[ $(jget "$J" "d['initiator']") == iqn.* ]] || fail "initiator is not an IQN"
if [ -r /etc/iscsi/initiatorname.iscsi ]; then
	want=$(sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi)
	[ "$(jget "$J" "d['initiator']")" = "$want" ] || fail "initiator is not iscsid's"
fi
if [ -r /etc/nvme/hostnqn ]; then
	[ "$(jget "$J" "d['nqn']")" = "$(cat /etc/nvme/hostnqn)" ] || fail "nqn is not /etc/nvme/hostnqn"
fi

J=$("$CINDER_BRICK" get-connector --json --multipath --enforce-multipath --nic lo) ||
	fail "get-connector with flags failed"
[ "$(jget "$J" "d['multipath']")" = true ] || fail "--multipath not set"
[ "$(jget "$J" "d['enforce_multipath']")" = true ] || fail "--enforce-multipath not set"
[ "$(jget "$J" "d['ip']")" = 127.0.0.1 ] || fail "--nic lo did not give 127.0.0.1"

"$CINDER_BRICK" get-connector | grep -q '^initiator: iqn\.' || fail "no initiator line"
"$CINDER_BRICK" get-connector --help | grep -q -- --enforce-multipath || fail "--help"
"$CINDER_BRICK" get-connector --nic no-such-nic 2> "$T/err"
[ $? -eq 1 ] && grep -q 'no-such-nic' "$T/err" || fail "an unknown --nic: $(cat "$T/err")"
"$CINDER_BRICK" get-connector --bogus 2> /dev/null
[ $? -eq 2 ] || fail "an unknown option is not a usage error"

# The generated IQN, in a mount namespace with an empty /etc and SYSCONFDIR.
etc=${CB_SYSCONFDIR:-/etc}
if [ "$(id -u)" = 0 ] && unshare -m true 2> /dev/null && [ -d "$etc" ]; then
	unshare -m bash -c 'mount -t tmpfs none /etc && mkdir -p "$2" &&
		mount -t tmpfs none "$2" &&
		"$0" get-connector --json > "$1/a" && "$0" get-connector --json > "$1/b" &&
		stat -c %a "$2/cinder-brick/initiatorname" > "$1/mode" &&
		cat "$2/cinder-brick/initiatorname" > "$1/file"' "$CINDER_BRICK" "$T" "$etc" ||
		fail "get-connector without an iscsid initiator name"
	a=$(jget "$(cat "$T/a")" "d['initiator']")
	[[ $a == iqn.2004-10.org.cinder-brick:$(hostname)-* ]] || fail "generated IQN $a"
	[ "$a" = "$(jget "$(cat "$T/b")" "d['initiator']")" ] || fail "the IQN changed between runs"
	[ "$(cat "$T/mode")" = 644 ] || fail "initiatorname has mode $(cat "$T/mode")"
	[ "$(cat "$T/file")" = "InitiatorName=$a" ] || fail "initiatorname holds $(cat "$T/file")"
else
	note "not root, no unshare or no $etc: the generated initiator name is not tested"
fi
echo "ok - get-connector"
