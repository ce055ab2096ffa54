# Helpers for tests of the iscsi backend against tgtd (Debian's tgt), the
# userspace iSCSI target, run here on 127.0.0.1.  Sourced after lib.sh.
#
# Each tgtd is its own process on its own portal and control port, so a
# test can take one path away (SIGKILL: the connections drop as a crashed
# target's would) and bring it back.  Two tgtds over one backing file are
# two paths to one LUN: tgtd reads and writes the file through the page
# cache, so each sees the other's acknowledged writes.

require_built iscsi
[ "$(id -u)" = 0 ] || skip "tgtd needs root"
require_cmd tgtd tgtadm jq
mkdir -p /run/tgtd

TGT_PIDS=()
TGT_IQN=iqn.2010-10.org.openstack:volume-$$
INITIATOR=$("$CINDER_BRICK" get-connector --json | jq -r .initiator)
[ -n "$INITIATOR" ] || fail "get-connector reports no initiator"

# tgt_start NAME [BSOPTS...]: a tgtd on a free port of 127.0.0.1 with one
# target of LUN 1 over $T/lun.img; its portal is in TGT_PORTAL[NAME].  The
# control port (a number naming a Unix socket; tgtd takes up to 32767) is
# one no tgtd answers on, never the lab's (3260): a test's tgtadm calls
# must not reach another tgtd.
declare -A TGT_PORTAL TGT_PORT TGT_CTL TGT_PID TGT_ARGS
TGT_NEXT_CTL=$((4000 + $$ % 20000))
tgt_free_ctl() {
	while tgtadm -C "$TGT_NEXT_CTL" --op show --mode sys > /dev/null 2>&1; do
		TGT_NEXT_CTL=$((TGT_NEXT_CTL + 1))
	done
	echo "$TGT_NEXT_CTL"	# taken once its tgtd answers, before the next call
}
tgt_start() {
	local name=$1 port ctl

	shift
	port=${TGT_PORT[$name]:-$(free_port)}
	ctl=${TGT_CTL[$name]:-$(tgt_free_ctl)}
	TGT_PORT[$name]=$port
	TGT_CTL[$name]=$ctl
	TGT_ARGS[$name]="$*"
	TGT_PORTAL[$name]=127.0.0.1:$port
	tgtd -f --iscsi "portal=127.0.0.1:$port" --control-port "$ctl" >> "$T/tgtd-$name.log" 2>&1 &
	disown $!	# its SIGKILLs are the point, not news
	TGT_PID[$name]=$!
	TGT_PIDS+=("$!")
	wait_for 100 tgtadm -C "$ctl" --op show --mode sys > /dev/null 2>&1 ||
		fail "tgtd $name did not start: $(tail -3 "$T/tgtd-$name.log")"
	tgt_adm "$name" --op new --mode target --tid 1 -T "$TGT_IQN"
	tgt_adm "$name" --op new --mode logicalunit --tid 1 --lun 1 -b "$T/lun.img" "$@"
	tgt_bind "$name" "${TGT_ACL:-ALL}"
	if [ -n "${TGT_CHAP_USER:-}" ]; then
		tgt_adm "$name" --op new --mode account --user "$TGT_CHAP_USER" \
			--password "$TGT_CHAP_PASSWORD"
		tgt_adm "$name" --op bind --mode account --tid 1 --user "$TGT_CHAP_USER"
	fi
}
tgt_adm() {
	local name=$1

	shift
	tgtadm -C "${TGT_CTL[$name]}" --lld iscsi "$@" > /dev/null ||
		fail "tgtadm $* on tgtd $name failed"
}

# tgt_bind NAME ALL|IQN: the target's ACL.
tgt_bind() {
	if [ "$2" = ALL ]; then
		tgt_adm "$1" --op bind --mode target --tid 1 --initiator-address ALL
	else
		tgt_adm "$1" --op bind --mode target --tid 1 --initiator-name "$2"
	fi
}

# tgt_kill NAME: the target goes away at once, its connections dropped.
tgt_kill() {
	kill -KILL "${TGT_PID[$1]}"
	wait_gone "${TGT_PID[$1]}" || fail "tgtd $1 survived SIGKILL"
}

# tgt_restart NAME: the same target again on the same portal.
tgt_restart() {
	tgt_start "$1" ${TGT_ARGS[$1]}
}

# tgtd ignores SIGTERM while it has targets: offline, the targets gone,
# then the system.
tgt_stop_all() {
	local name ctl

	for name in "${!TGT_PID[@]}"; do
		is_alive "${TGT_PID[$name]}" || continue
		ctl=${TGT_CTL[$name]}
		tgtadm -C "$ctl" --op update --mode sys --name State -v offline > /dev/null 2>&1
		tgtadm -C "$ctl" --op delete --mode target --tid 1 --force > /dev/null 2>&1
		tgtadm -C "$ctl" --op delete --mode system > /dev/null 2>&1
		kill -TERM "${TGT_PID[$name]}" 2> /dev/null
	done
	for name in "${!TGT_PID[@]}"; do
		wait_gone "${TGT_PID[$name]}" 50 || kill -KILL "${TGT_PID[$name]}" 2> /dev/null
	done
}

iscsi_cleanup() {
	local rc=$?

	umount -l "$T/mnt" 2> /dev/null
	# A test that attached (local-attach) says how to undo it, while its
	# (fake) Cinder still runs.
	[ -z "${ISCSI_UNDO:-}" ] || $ISCSI_UNDO > /dev/null 2>&1
	stop_all_servers
	tgt_stop_all
	(exit $rc)
	cb_cleanup
}
trap iscsi_cleanup EXIT

# iscsi_ci NAME... : connection_info as Cinder's LVM driver with the
# tgtadm target helper returns it, for the tgtds named: with more than
# one, the lists too.  TGT_CHAP_* (and CI_PASSWORD, to lie) add CHAP.
iscsi_ci() {
	local portals

	portals=$(for n in "$@"; do echo "${TGT_PORTAL[$n]}"; done | jq -R . | jq -s .)
	jq -n --argjson p "$portals" --arg iqn "$TGT_IQN" --arg vid "$$" \
		--arg user "${TGT_CHAP_USER:-}" --arg pw "${CI_PASSWORD:-${TGT_CHAP_PASSWORD:-}}" \
		'{driver_volume_type: "iscsi", data: ({target_discovered: false,
		  target_portal: $p[0], target_iqn: $iqn, target_lun: 1, volume_id: $vid,
		  encrypted: false, discard: true, access_mode: "rw"}
		  + (if ($p | length) > 1 then {target_portals: $p,
		     target_iqns: [$p[] | $iqn], target_luns: [$p[] | 1]} else {} end)
		  + (if $user != "" then {auth_method: "CHAP", auth_username: $user,
		     auth_password: $pw} else {} end))}' > "$T/ci.json"
}
