# shellcheck shell=bash
# Sourced by scripts/bench: matrices driven by qemu-img bench, for
# backends no fio engine reaches directly (Debian's fio has neither nfs nor
# libiscsi): the servers over nbd+unix://, "direct" over the URL of qemu's
# own driver for the backend, $qib_direct.  qemu-img bench is sequential,
# with a step between requests that wraps at the end of the file: the 4k
# workloads step by a prime number of blocks, which visits every block
# once in a scattered order.

# id|label|rw|bs|depth: rw is read or write; scattered steps by a prime.
qib_workloads=(
	"read-4k-qd1|4k scattered read QD1|read-scattered|4096|1"
	"read-4k-qd32|4k scattered read QD32|read-scattered|4096|32"
	"write-4k-qd32|4k scattered write QD32|write-scattered|4096|32"
	"read-1m-qd8|1M read QD8|read|1048576|8"
	"write-1m-qd8|1M write QD8|write|1048576|8"
)
# 104729 blocks: a prime, so it shares no factor with any block count a
# --size gives, and the step stays below qemu-img's limit of 2 GiB.
qib_scatter_blocks=104729

qib_direct=
declare -A qib_count=()

# qemu-img bench's arguments for one workload, without the count.
qib_args() {	# RW BS DEPTH
	local a=(-f raw -q -d "$3" -s "$2")
	case $1 in
	read-scattered) a+=(-S $(($2 * qib_scatter_blocks))) ;;
	write-scattered) a+=(-w --pattern=0xa5 -S $(($2 * qib_scatter_blocks))) ;;
	write) a+=(-w --pattern=0xa5) ;;
	esac
	echo "${a[*]}"
}

# Runs qemu-img bench and prints "seconds cpu-seconds", or fails.
qib_once() {	# COUNT TARGET ARGS...
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

qib_target() {	# SERVER
	if [ "$1" = direct ]; then echo "$qib_direct"; else echo "${uri[$1]}"; fi
}

# How many requests last about --runtime seconds, measured on the direct
# run; the probe also warms the server's cache, as fio's ramp would.
qib_calibrate() {	# SPEC
	local id label rw bs qd args probe r
	IFS='|' read -r id label rw bs qd <<<"$1"
	args=$(qib_args "$rw" "$bs" "$qd")
	probe=$((bs >= 1048576 ? 256 : 4096))
	r=$(qib_once "$probe" "$qib_direct" "$args") || die "qemu-img bench over $qib_direct failed: $(cat "$work/qib.out")"
	qib_count[$id]=$(awk -v n="$probe" -v s="${r%% *}" -v t="$runtime" \
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
	if ! r=$(qib_once "${qib_count[$id]}" "$(qib_target "$server")" "$(qib_args "$rw" "$bs" "$qd")"); then
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
	awk -v n="${qib_count[$id]}" -v s="$secs" -v c="$cpu" -v w="$wall" -v bs="$bs" -v qd="$qd" \
		-v ticks=$((t1 - t0)) -v hz="$clk_tck" -v m="$matrix" -v id="$id" -v srv="$server" \
		-v rep="$rep" -v load1="$load" 'BEGIN {
		iops = n / s
		printf "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\tok\n", m, id, srv, rep, iops,
			iops * bs / 1048576, qd / iops * 1e6, ticks / hz * 1e6 / n, c / w * 100, load1
	}' >>"$tsv"
	log "$matrix $label $server r$rep: $(tail -n 1 "$tsv" | cut -f5) IOPS"
}

# Every workload on SERVERS and direct, after the calibration.
qib_run_matrix() {	# MATRIX "SERVERS"
	local spec
	for spec in "${qib_workloads[@]}"; do
		qib_calibrate "$spec"
	done
	runner=run_qemu_img_bench
	# shellcheck disable=SC2086 # a list of names
	run_matrix "$1" $2 -- "${qib_workloads[@]}"
	runner=run_fio
}
