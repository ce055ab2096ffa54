# shellcheck shell=bash
# Sourced by scripts/bench: the loop matrix.  The block device a user gets
# where the kernel has no nbd: a loop device with direct I/O over each FUSE
# export of the preloaded file (cinder-brick's own, from export --loop, and
# one set up the same way over qemu-storage-daemon's), driven by fio on the
# device with O_DIRECT, in the fuse matrix's workloads.

loop_servers="cinder-brick qsd"

# Why the loop matrix cannot run here, or nothing.
loop_missing() {
	[ "$(id -u)" -eq 0 ] || { echo "root (to set up loop devices)"; return; }
	[ -c /dev/loop-control ] || echo "/dev/loop-control (modprobe loop)"
}

# What local-attach gives: the loop device of export --fuse --loop, which
# it names on stdout once it is attached.
start_cinder_brick_loop() {	# NAME
	local name=$1 logf=$logs/loop-$1.log deadline=$((SECONDS + 30)) pid dev
	start_cinder_brick_fuse "$name" loop --loop
	pid=$(server_pid "$name")
	while ! dev=$(sed -n 's/^loop: //p' "$logf") || [ -z "$dev" ]; do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; start_failed "$name" "$logf" "it exited"; }
		[ $SECONDS -lt $deadline ] || start_failed "$name" "$logf" "no loop device within 30 s"
		sleep 0.05
	done
	loops+=("$dev=${fuse_file[$name]}")
	loop_dev["$name"]=$dev
}

# The same device over qemu-storage-daemon's FUSE file: direct I/O and
# 512-byte sectors, as cinder-brick sets up its own (src/exports/loop.c).
start_qsd_loop() {
	local logf=$logs/loop-qsd.log mnt dev
	start_qsd_fuse loop
	mnt=${fuse_file[qsd]}
	dev=$(losetup --direct-io=on --sector-size 512 --find --show "$mnt" 2>>"$logf") ||
		start_failed qsd "$logf" "losetup refused $mnt"
	loops+=("$dev=$mnt")
	[ "$(cat "/sys/block/${dev#/dev/}/loop/dio" 2>/dev/null)" = 1 ] ||
		log "warning: $dev over qemu-storage-daemon's file runs without direct I/O"
	loop_dev[qsd]=$dev
}

run_loop_matrix() {
	local s devs=
	for s in $brick_servers; do start_cinder_brick_loop "$s"; done
	start_qsd_loop
	for s in $loop_servers; do devs+="${devs:+, }$s ${loop_dev[$s]}"; done
	log "loop devices ready: $devs"
	# shellcheck disable=SC2086 # a list of names
	run_matrix loop $loop_servers -- "${fuse_workloads[@]}"
	stop_servers
	report_matrix loop "$loop_servers" "" "${fuse_workloads[@]}"
}
