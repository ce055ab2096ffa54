# shellcheck shell=bash
# Sourced by scripts/bench: the nfs matrix.  cinder-brick's nfs backend
# (export --nbd of a raw volume file on an NFS export), libnfs driven
# directly by qemu's nfs driver, and qemu-nbd with that driver, on one
# file that an nfs-ganesha started here exports on 127.0.0.1 (NFSv3, as a
# Cinder NFS share without options is mounted).
#
# Debian's fio has no nfs engine, so the client is qemu-img bench for all
# three (bench.d/qemu-img-bench.sh): over nbd+unix:// to the two servers,
# over nfs:// for the direct run.

nfs_servers="cinder-brick direct qemu-nbd"
nfs_peer_targets="direct:0.95 qemu-nbd:1.2"
nfs_export=
nfs_ganesha_pid=
nfs_rpcbind_pid=

# Why the nfs matrix cannot run here, or nothing.
nfs_missing() {
	local c
	[ "$(id -u)" = 0 ] || { echo "root (nfs-ganesha is started here)"; return; }
	for c in ganesha.nfsd rpcbind rpcinfo ss qemu-img; do
		command -v "$c" >/dev/null 2>&1 ||
			{ echo "the '$c' command (apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind iproute2 qemu-utils)"; return; }
	done
	compgen -G "/usr/lib/*/ganesha/libfsalvfs.so" >/dev/null ||
		{ echo "nfs-ganesha's VFS backend (apt-get install nfs-ganesha-vfs)"; return; }
	compgen -G "/usr/lib/*/qemu/block-nfs.so" >/dev/null ||
		{ echo "qemu's nfs driver (apt-get install qemu-block-extra)"; return; }
	! ss -ltn | grep -q '[:.]2049 ' ||
		{ echo "port 2049 free for an nfs-ganesha of its own: another NFS server listens there (tests/test-nfs.sh runs one for a minute; wait, or stop that server)"; return; }
}

# rpcbind for NFSv3 (a running one is used), then nfs-ganesha exporting a
# tmpfs of its own: ganesha finds an export's filesystem in the mount table.
nfs_start_server() {
	local logf=$logs/nfs-ganesha.log deadline=$((SECONDS + 60))
	if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
		rpcbind -f -w &
		nfs_rpcbind_pid=$!
		while ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
			[ $SECONDS -lt $deadline ] || die "rpcbind did not start"
			sleep 0.1
		done
	fi
	nfs_export=$work/nfs-export
	mkdir -m 755 "$nfs_export"
	mount -t tmpfs -o "size=$((size_bytes + (64 << 20))),mode=755" cb-bench-nfs "$nfs_export" ||
		die "cannot mount a tmpfs on $nfs_export for the NFS export"
	# Admits 127.0.0.1 alone; listens everywhere because ganesha cannot
	# resolve a Bind_addr where lo is the only interface.
	cat >"$work/ganesha.conf" <<-CONF
		NFS_CORE_PARAM { Protocols = 3, 4; Enable_NLM = false; Enable_RQUOTA = false; }
		NFSV4 { Graceless = true; }
		EXPORT {
			Export_Id = 1; Path = $nfs_export; Pseudo = $nfs_export;
			Access_Type = None; Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP;
			SecType = sys; FSAL { Name = VFS; }
			CLIENT { Clients = 127.0.0.1; Access_Type = RW; }
		}
	CONF
	ganesha.nfsd -F -L "$logf" -f "$work/ganesha.conf" -p "$work/ganesha.pid" &
	nfs_ganesha_pid=$!
	cleanup_hooks+=(nfs_stop_server)
	while ! rpcinfo -T tcp 127.0.0.1 nfs 3 >/dev/null 2>&1; do
		kill -0 "$nfs_ganesha_pid" 2>/dev/null || start_failed nfs-ganesha "$logf" "it exited"
		[ $SECONDS -lt $deadline ] || start_failed nfs-ganesha "$logf" "no NFSv3 service within 60 s"
		sleep 0.1
	done
	log "preloading $nfs_export/volume.img with $((size_bytes >> 20)) MiB of random data"
	head -c "$size_bytes" /dev/urandom >"$nfs_export/volume.img"
	jq -n --arg e "127.0.0.1:$nfs_export" \
		'{driver_volume_type: "nfs", data: {export: $e, name: "volume.img", format: "raw"}}' \
		>"$work/nfs-ci.json"
}

# After the clients: they flush to the server when they stop.
nfs_stop_server() {
	[ -n "$nfs_ganesha_pid" ] && stop_pid "$nfs_ganesha_pid"
	nfs_ganesha_pid=
	[ -n "$nfs_rpcbind_pid" ] && stop_pid "$nfs_rpcbind_pid"
	nfs_rpcbind_pid=
	[ -n "$nfs_export" ] && mounted "$nfs_export" && umount -l "$nfs_export"
	return 0
}

nfs_url() { echo "nfs://127.0.0.1$nfs_export/volume.img"; }

start_cinder_brick_nfs() {	# NAME
	serve_nbd "$1" nfs "$(brick_binary "$1")" export --connection-info "$work/nfs-ci.json" \
		--nbd unix:SOCK --foreground
}

start_qemu_nbd_nfs() {
	serve_nbd qemu-nbd nfs qemu-nbd --persistent --shared=8 --format=raw --cache=writeback \
		--socket=SOCK "$(nfs_url)"
}

run_nfs_matrix() {
	local s
	nfs_start_server
	for s in $brick_servers; do start_cinder_brick_nfs "$s"; done
	start_qemu_nbd_nfs
	log "NFS servers ready on $(nfs_url): ${server_names[*]} and direct (qemu-img bench over nfs://)"
	qib_direct=$(nfs_url)
	qib_run_matrix nfs "$nfs_servers"
	stop_servers
	nfs_stop_server
	report_peers_matrix nfs "$nfs_servers" "$nfs_peer_targets" "${qib_workloads[@]}"
}
