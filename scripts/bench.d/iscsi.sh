# shellcheck shell=bash
# Sourced by scripts/bench: the iscsi matrix.  cinder-brick's iscsi backend
# (export --nbd of a LUN), libiscsi driven directly by qemu's iscsi driver,
# and qemu-nbd with that driver, on one LUN of a tgtd started here on
# 127.0.0.1 over a file of random data (tgtd reads and writes it through
# the page cache), with qemu-img bench as the client of all three
# (bench.d/qemu-img-bench.sh): Debian's fio has no libiscsi engine.

iscsi_servers="cinder-brick direct qemu-nbd"
iscsi_peer_targets="direct:0.95 qemu-nbd:1.2"
iscsi_iqn=iqn.2010-10.org.openstack:volume-cb-bench-$$
iscsi_portal=
iscsi_ctl=
iscsi_tgtd_pid=

# Why the iscsi matrix cannot run here, or nothing.
iscsi_missing() {
	local c
	[ "$(id -u)" = 0 ] || { echo "root (tgtd is started here)"; return; }
	for c in tgtd tgtadm qemu-img python3; do
		command -v "$c" >/dev/null 2>&1 ||
			{ echo "the '$c' command (apt-get install tgt qemu-utils python3)"; return; }
	done
	compgen -G "/usr/lib/*/qemu/block-iscsi.so" >/dev/null ||
		{ echo "qemu's iscsi driver (apt-get install qemu-block-extra)"; return; }
}

iscsi_adm() { tgtadm -C "$iscsi_ctl" --lld iscsi "$@" >/dev/null; }

# A control port no tgtd answers on (the lab's is 3260; tgtd takes up to 32767).
iscsi_free_ctl() {
	local c=$((4000 + $$ % 20000))
	while tgtadm -C "$c" --op show --mode sys >/dev/null 2>&1; do c=$((c + 1)); done
	echo "$c"
}

iscsi_start_target() {
	local logf=$logs/tgtd.log deadline=$((SECONDS + 30)) port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	iscsi_portal=127.0.0.1:$port
	iscsi_ctl=$(iscsi_free_ctl)
	mkdir -p /run/tgtd
	log "preloading $work/lun.img with $((size_bytes >> 20)) MiB of random data"
	head -c "$size_bytes" /dev/urandom >"$work/lun.img"
	tgtd -f --iscsi "portal=$iscsi_portal" --control-port "$iscsi_ctl" >"$logf" 2>&1 &
	iscsi_tgtd_pid=$!
	cleanup_hooks+=(iscsi_stop_target)
	while ! tgtadm -C "$iscsi_ctl" --op show --mode sys >/dev/null 2>&1; do
		kill -0 "$iscsi_tgtd_pid" 2>/dev/null || start_failed tgtd "$logf" "it exited"
		[ $SECONDS -lt $deadline ] || start_failed tgtd "$logf" "no control port within 30 s"
		sleep 0.1
	done
	iscsi_adm --op new --mode target --tid 1 -T "$iscsi_iqn" &&
		iscsi_adm --op new --mode logicalunit --tid 1 --lun 1 -b "$work/lun.img" &&
		iscsi_adm --op bind --mode target --tid 1 --initiator-address ALL ||
		die "cannot set up the iSCSI target (tgtadm; see $logf)"
	jq -n --arg p "$iscsi_portal" --arg iqn "$iscsi_iqn" \
		'{driver_volume_type: "iscsi", data: {target_portal: $p, target_iqn: $iqn,
		  target_lun: 1, target_discovered: false, access_mode: "rw"}}' >"$work/iscsi-ci.json"
}

# After the clients.  tgtd ignores SIGTERM while it has targets.
iscsi_stop_target() {
	[ -n "$iscsi_tgtd_pid" ] || return 0
	tgtadm -C "$iscsi_ctl" --op update --mode sys --name State -v offline >/dev/null 2>&1
	tgtadm -C "$iscsi_ctl" --op delete --mode target --tid 1 --force >/dev/null 2>&1
	tgtadm -C "$iscsi_ctl" --op delete --mode system >/dev/null 2>&1
	stop_pid "$iscsi_tgtd_pid"
	iscsi_tgtd_pid=
}

iscsi_url() { echo "iscsi://$iscsi_portal/$iscsi_iqn/1"; }

start_cinder_brick_iscsi() {	# NAME
	serve_nbd "$1" iscsi "$(brick_binary "$1")" export --connection-info "$work/iscsi-ci.json" \
		--nbd unix:SOCK --foreground
}

start_qemu_nbd_iscsi() {
	serve_nbd qemu-nbd iscsi qemu-nbd --persistent --shared=8 --format=raw --cache=none \
		--socket=SOCK "$(iscsi_url)"
}

run_iscsi_matrix() {
	local s
	iscsi_start_target
	for s in $brick_servers; do start_cinder_brick_iscsi "$s"; done
	start_qemu_nbd_iscsi
	log "iSCSI servers ready on $(iscsi_url): ${server_names[*]} and direct (qemu-img bench over iscsi://)"
	qib_direct=$(iscsi_url)
	qib_run_matrix iscsi "$iscsi_servers"
	stop_servers
	iscsi_stop_target
	report_peers_matrix iscsi "$iscsi_servers" "$iscsi_peer_targets" "${qib_workloads[@]}"
}
