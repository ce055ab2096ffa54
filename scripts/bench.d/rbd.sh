# shellcheck shell=bash
# Sourced by scripts/bench: the rbd matrix.  cinder-brick's rbd backend
# (export --nbd of an image of the lab's Ceph), librbd driven directly by
# fio's rbd engine, and qemu-nbd with qemu's rbd driver, on one image.
#
# The image is made here, in the lab's "volumes" pool, filled with random
# data, and removed at the end.  Everything connects as client.cinder, the
# user Cinder gives its volumes, with the lab's keyring and ceph.conf.

rbd_lab=$(realpath -m "${LAB_STATE:-/var/lib/cinder-brick-lab}")
rbd_conf=$rbd_lab/ceph/ceph.conf
rbd_keyring=$rbd_lab/ceph/ceph.client.cinder.keyring
rbd_pool=volumes
rbd_image=

rbd_servers="cinder-brick direct qemu-nbd"
rbd_peer_targets="direct:0.95 qemu-nbd:1.2"

# Why the rbd matrix cannot run here, or nothing.
rbd_missing() {
	local c
	for c in ceph rbd; do
		command -v "$c" >/dev/null 2>&1 ||
			{ echo "the '$c' command (apt-get install ceph-common)"; return; }
	done
	fio --enghelp=rbd >/dev/null 2>&1 || { echo "fio's rbd engine (a fio built with librbd)"; return; }
	compgen -G "/usr/lib/*/qemu/block-rbd.so" >/dev/null ||
		{ echo "qemu's rbd driver (apt-get install qemu-block-extra)"; return; }
	[ -r "$rbd_conf" ] && [ -r "$rbd_keyring" ] ||
		{ echo "the lab's Ceph: no $rbd_conf or $rbd_keyring (start it: scripts/lab up; LAB_STATE names another lab)"; return; }
	timeout 20 ceph -c "$rbd_conf" -s >/dev/null 2>&1 ||
		{ echo "an answer from the lab's Ceph (ceph -c $rbd_conf -s failed: scripts/lab status says why)"; return; }
}

rbd_admin() { timeout 120 rbd -c "$rbd_conf" "$@"; }

# The cluster is the lab's, shared: a bench image must leave room for others.
rbd_check_space() {
	local avail
	avail=$(timeout 20 ceph -c "$rbd_conf" df -f json 2>/dev/null | jq -r '.stats.total_avail_bytes') ||
		die "cannot ask the lab's Ceph for its free space (ceph df)"
	[ "$avail" -ge $((size_bytes * 2)) ] ||
		die "the lab's Ceph has $((avail >> 20)) MiB free: a $((size_bytes >> 20)) MiB image needs twice that (use a smaller --size)"
}

# connection_info as Cinder's RBD driver gives it: the monitors are the v1
# addresses of "ceph mon dump", the key comes from --rbd-keyring.
rbd_connection_info() {
	timeout 20 ceph -c "$rbd_conf" mon dump -f json 2>/dev/null | jq --arg name "$rbd_pool/$rbd_image" '
		[.mons[].public_addrs.addrvec[] | select(.type == "v1") | .addr | capture("^\\[?(?<h>.*?)\\]?:(?<p>[0-9]+)$")]
		| {driver_volume_type: "rbd",
		   data: {name: $name, hosts: map(.h), ports: map(.p), cluster_name: "ceph",
			  auth_enabled: true, auth_username: "cinder"}}' >"$work/rbd-ci.json" &&
		[ "$(jq '.data.hosts | length' "$work/rbd-ci.json")" -gt 0 ] ||
		die "cannot read the lab's monitors (ceph mon dump)"
}

# Random data in every object, written by librbd itself (4 MiB writes).
rbd_make_image() {
	rbd_image=cb-bench-$$-$RANDOM
	rbd_check_space
	log "creating $rbd_pool/$rbd_image ($((size_bytes >> 20)) MiB of random data) in the lab's Ceph"
	rbd_admin create --size "$((size_bytes >> 20))M" "$rbd_pool/$rbd_image" ||
		die "cannot create the image $rbd_pool/$rbd_image"
	CEPH_CONF=$rbd_conf fio --name=preload --ioengine=rbd --clientname=cinder --pool="$rbd_pool" \
		--rbdname="$rbd_image" --rw=write --bs=4M --iodepth=8 --refill_buffers \
		--output="$logs/rbd-preload.log" >/dev/null 2>&1 ||
		die "cannot fill $rbd_pool/$rbd_image (see $logs/rbd-preload.log)"
	rbd_connection_info
}

# Servers let go of the image before this; a watch can outlive a killed
# client by 30 s, so rm is tried again for a while.
rbd_remove_image() {
	local i
	[ -n "$rbd_image" ] || return 0
	for ((i = 0; i < 20; i++)); do
		rbd_admin rm --no-progress "$rbd_pool/$rbd_image" >/dev/null 2>&1 && { rbd_image=; return 0; }
		sleep 2
	done
	echo "$prog: could not remove the bench image $rbd_pool/$rbd_image: remove it with rbd -c $rbd_conf rm $rbd_pool/$rbd_image" >&2
}

start_cinder_brick_rbd() {	# NAME
	serve_nbd "$1" rbd "$(brick_binary "$1")" export --connection-info "$work/rbd-ci.json" \
		--rbd-keyring "$rbd_keyring" --nbd unix:SOCK --foreground
}

# qemu's defaults for its rbd driver: cache=writeback turns librbd's cache
# on, and librbd keeps it write-through until the client's first flush.
start_qemu_nbd_rbd() {
	serve_nbd qemu-nbd rbd qemu-nbd --persistent --shared=8 --cache=writeback --socket=SOCK \
		--image-opts "driver=raw,file.driver=rbd,file.pool=$rbd_pool,file.image=$rbd_image,file.user=cinder,file.conf=$(qemu_escape "$rbd_conf")"
}

# fio's arguments for the server "direct": librbd in fio itself.
rbd_direct_args() {
	echo "--ioengine=rbd --clientname=cinder --pool=$rbd_pool --rbdname=$rbd_image"
}

run_rbd_matrix() {
	local s
	rbd_make_image
	cleanup_hooks+=(rbd_remove_image)
	for s in $brick_servers; do start_cinder_brick_rbd "$s"; done
	start_qemu_nbd_rbd
	fio_args[direct]=$(rbd_direct_args)
	# fio's rbd engine reads the configuration CEPH_CONF names.
	export CEPH_CONF=$rbd_conf
	log "RBD servers ready on $rbd_pool/$rbd_image: ${server_names[*]} and direct (fio's rbd engine)"
	# shellcheck disable=SC2086 # a list of names
	run_matrix rbd $rbd_servers -- "${nbd_workloads[@]}"
	stop_servers
	unset 'fio_args[direct]' CEPH_CONF
	rbd_remove_image
	report_peers_matrix rbd "$rbd_servers" "$rbd_peer_targets" "${nbd_workloads[@]}"
}
