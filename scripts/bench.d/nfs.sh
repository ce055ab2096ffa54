# shellcheck shell=bash
# Sourced by scripts/bench: the nfs matrix.  cinder-brick's nfs backend
# (export --nbd of a raw volume file on an NFS export), libnfs driven
# directly by qemu's nfs driver, and qemu-nbd with that driver, on one
# file that an nfs-ganesha started here exports on 127.0.0.1 (NFSv3, as a
# Cinder NFS share without options is mounted).
#
# Debian's fio has no nfs engine, so the client is qemu-img bench for all
# three: over nbd+unix:// to the two servers, over nfs:// for the direct
# run.  qemu-img bench is sequential, with a step between requests that
# wraps at the end of the file: the 4k workloads step by a prime number
# of blocks, which visits every block once in a scattered order.

nfs_servers="cinder-brick direct qemu-nbd"
nfs_peer_targets="direct:0.95 qemu-nbd:1.2"
# id|label|rw|bs|depth: rw is read or write; scattered steps by a prime.
nfs_workloads=(
	"read-4k-qd1|4k scattered read QD1|read-scattered|4096|1"
	"read-4k-qd32|4k scattered read QD32|read-scattered|4096|32"
	"write-4k-qd32|4k scattered write QD32|write-scattered|4096|32"
	"read-1m-qd8|1M read QD8|read|1048576|8"
	"write-1m-qd8|1M write QD8|write|1048576|8"
)
# 104729 blocks: a prime, so it shares no factor with any block count a
# --size gives, and the step stays below qemu-img's limit of 2 GiB.
nfs_scatter_blocks=104729

nfs_export=
nfs_ganesha_pid=
nfs_rpcbind_pid=
declare -A nfs_count=()

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

start_cinder_brick_nfs() {
	local sock=$work/cb-nfs.sock logf=$logs/nfs-cinder-brick.log
	"$binary" export --connection-info "$work/nfs-ci.json" --nbd "unix:$sock" \
		--foreground >"$logf" 2>&1 &
	register_server cinder-brick $!
	wait_nbd_ready cinder-brick $! "$sock" "$(nbd_uri "$sock")" "$logf"
	uri[cinder-brick]=$(nbd_uri "$sock")
}

start_qemu_nbd_nfs() {
	local sock=$work/qemu-nbd-nfs.sock logf=$logs/nfs-qemu-nbd.log
	qemu-nbd --persistent --shared=8 --format=raw --cache=writeback --socket="$sock" \
		"$(nfs_url)" >"$logf" 2>&1 &
	register_server qemu-nbd $!
	wait_nbd_ready qemu-nbd $! "$sock" "$(nbd_uri "$sock")" "$logf"
	uri[qemu-nbd]=$(nbd_uri "$sock")
}

# qemu-img bench's arguments for one workload, without the count.
nfs_bench_args() {	# RW BS DEPTH
	local a=(-f raw -q -d "$3" -s "$2")
	case $1 in
	read-scattered) a+=(-S $(($2 * nfs_scatter_blocks))) ;;
	write-scattered) a+=(-w --pattern=0xa5 -S $(($2 * nfs_scatter_blocks))) ;;
	write) a+=(-w --pattern=0xa5) ;;
	esac
	echo "${a[*]}"
}

# Runs qemu-img bench and prints "seconds cpu-seconds", or fails.
nfs_bench_once() {	# COUNT TARGET ARGS...
	local count=$1 target=$2 out t0 t1
	shift 2
	local TIMEFORMAT='%U %S'
	t0=$(date +%s.%N)
	# shellcheck disable=SC2068 # ARGS are words
	{ time qemu-img bench $@ -c "$count" "$target" >"$work/qib.out" 2>&1 ; } 2>"$work/qib.time" || return 1
	t1=$(date +%s.%N)
	out=$(sed -n 's/^Run completed in \([0-9.]*\) seconds\.$/\1/p' "$work/qib.out")
	[ -n "$out" ] || return 1
	awk -v s="$out" -v w0="$t0" -v w1="$t1" '{ printf "%s %s %s\n", s, $1 + $2, w1 - w0 }' "$work/qib.time"
}

nfs_target() {	# SERVER
	if [ "$1" = direct ]; then nfs_url; else echo "${uri[$1]}"; fi
}

# How many requests last about --runtime seconds, measured on the direct
# run; the probe also warms the server's cache, as fio's ramp would.
nfs_calibrate() {	# SPEC
	local id label rw bs qd args probe r
	IFS='|' read -r id label rw bs qd <<<"$1"
	args=$(nfs_bench_args "$rw" "$bs" "$qd")
	probe=$((bs >= 1048576 ? 256 : 4096))
	r=$(nfs_bench_once "$probe" "$(nfs_url)" "$args") || die "qemu-img bench over $(nfs_url) failed: $(cat "$work/qib.out")"
	nfs_count[$id]=$(awk -v n="$probe" -v s="${r%% *}" -v t="$runtime" \
		'BEGIN { c = s > 0 ? n / s * t : n; if (c < 64) c = 64; printf "%d\n", c }')
}

# One qemu-img bench run, as a line of results.tsv (the columns of run_fio;
# latency is depth / IOPS, the client's CPU from time).
run_qemu_img_bench() {	# MATRIX SERVER REP SPEC
	local matrix=$1 server=$2 rep=$3 spec=$4 id label rw bs qd pid t0 t1 load r secs cpu wall
	IFS='|' read -r id label rw bs qd <<<"$spec"
	pid=$(server_pid "$server") || pid=
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(cpu_ticks "$pid")
	if ! r=$(nfs_bench_once "${nfs_count[$id]}" "$(nfs_target "$server")" "$(nfs_bench_args "$rw" "$bs" "$qd")"); then
		cp "$work/qib.out" "$raw/$matrix-$id-$server-r$rep.err"
		printf '%s\t%s\t%s\t%s\t0\t0\t0\t0\t0\t%s\tfail\n' "$matrix" "$id" "$server" "$rep" "$load" >>"$tsv"
		log "$matrix $label $server r$rep: qemu-img bench FAILED (see $raw/$matrix-$id-$server-r$rep.err)"
		return
	fi
	t1=$(cpu_ticks "$pid")
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		die "$server died during $matrix $label (log: $logs)"
	fi
	read -r secs cpu wall <<<"$r"
	awk -v n="${nfs_count[$id]}" -v s="$secs" -v c="$cpu" -v w="$wall" -v bs="$bs" -v qd="$qd" \
		-v ticks=$((t1 - t0)) -v hz="$clk_tck" -v m="$matrix" -v id="$id" -v srv="$server" \
		-v rep="$rep" -v load1="$load" 'BEGIN {
		iops = n / s
		printf "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\tok\n", m, id, srv, rep, iops,
			iops * bs / 1048576, qd / iops * 1e6, ticks / hz * 1e6 / n, c / w * 100, load1
	}' >>"$tsv"
	log "$matrix $label $server r$rep: $(tail -n 1 "$tsv" | cut -f5) IOPS"
}

run_nfs_matrix() {
	local spec
	nfs_start_server
	start_cinder_brick_nfs
	start_qemu_nbd_nfs
	log "NFS servers ready on $(nfs_url): ${server_names[*]} and direct (qemu-img bench over nfs://)"
	for spec in "${nfs_workloads[@]}"; do
		nfs_calibrate "$spec"
	done
	runner=run_qemu_img_bench
	# shellcheck disable=SC2086 # a list of names
	run_matrix nfs $nfs_servers -- "${nfs_workloads[@]}"
	runner=run_fio
	stop_servers
	nfs_stop_server
	report_peers_matrix nfs "$nfs_servers" "$nfs_peer_targets" "${nfs_workloads[@]}"
}
