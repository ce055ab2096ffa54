# Helpers for the tests of the nfs backend: a real NFS server, nfs-ganesha
# (VFS) on 127.0.0.1, exporting a tmpfs of the test's own over NFSv3
# (through rpcbind) and NFSv4, and stopped, killed or frozen at will.
#
# A test sources lib.sh, then this file, then calls nfs_init before
# cb_init: ganesha's port, 2049, is one per host, so the tests that need it
# take turns (the test runs itself again under flock(1), as lab_lock does).

NFS_PIDS=()

# nfs_init: the lock, then a skip unless this build, this user and this
# host can run an NFS server.
nfs_init() {
	if [ -z "${CB_NFS_LOCK:-}" ]; then
		command -v flock > /dev/null || { echo "FAIL: flock is not installed" >&2; exit 1; }
		CB_NFS_LOCK=1 exec flock --close --timeout 1800 --conflict-exit-code 99 \
			"${TMPDIR:-/tmp}/cinder-brick-nfs-tests.lock" bash "$0"
	fi
	require_built nfs
	[ "$(id -u)" = 0 ] || skip "an NFS server needs root"
	require_cmd ganesha.nfsd rpcbind rpcinfo ss jq
}

# nfs_start: rpcbind if none answers, a tmpfs at $T/export, and ganesha
# exporting it.  Sets NFS_PID.  The EXIT trap stops them and unmounts.
nfs_start() {
	# NFSv3 finds its ports through rpcbind on 127.0.0.1:111; v4 is on 2049.
	if ! rpcinfo -p 127.0.0.1 > /dev/null 2>&1; then
		rpcbind -f -w &
		NFS_PIDS+=("$!")
		wait_for 100 rpcinfo -p 127.0.0.1 > /dev/null 2>&1 || fail "rpcbind did not start"
	fi
	! ss -ltn | grep -q '[:.]2049 ' || skip "port 2049 is taken: another NFS server runs here"
	mkdir -m 755 "$T/export" "$T/mnt"
	# A filesystem of its own: ganesha finds an export's filesystem in the
	# mount table, which inside a chroot has no entry for the chroot's /tmp.
	mount -t tmpfs -o size=512m,mode=755 cb-nfs-test "$T/export" || fail "cannot mount a tmpfs"
	trap nfs_cleanup EXIT
	# The same path for v3 (Path) and v4 (Pseudo), as a Cinder NFS share
	# has one.  No Bind_addr: ganesha resolves it with AI_ADDRCONFIG, which
	# finds no address where lo is the only interface (a network
	# namespace, a sandbox).  So it listens on every address, and its
	# export admits 127.0.0.1 alone.  Graceless: a restarted server takes
	# new state at once (one with a grace period refuses it meanwhile,
	# NFS4ERR_GRACE, and requests wait that out).
	cat > "$T/ganesha.conf" <<-CONF
	NFS_CORE_PARAM { Protocols = 3, 4; Enable_NLM = false; Enable_RQUOTA = false; }
	NFSV4 { Graceless = true; }
	EXPORT {
		Export_Id = 1; Path = $T/export; Pseudo = $T/export;
		Access_Type = None; Squash = No_Root_Squash; Protocols = 3, 4; Transports = TCP;
		SecType = sys; FSAL { Name = VFS; }
		CLIENT { Clients = 127.0.0.1; Access_Type = RW; }
	}
	CONF
	nfs_ganesha_start
}

# nfs_ganesha_start: ganesha with the test's config; returns once it
# answers NFSv3 and NFSv4 NULL calls.
nfs_ganesha_start() {
	ganesha.nfsd -F -L "$T/ganesha.log" -f "$T/ganesha.conf" -p "$T/ganesha.pid" &
	NFS_PID=$!
	NFS_PIDS+=("$NFS_PID")
	wait_for 300 rpcinfo -T tcp 127.0.0.1 nfs 3 > /dev/null 2>&1 &&
		wait_for 100 rpcinfo -n 2049 -t 127.0.0.1 nfs 4 > /dev/null 2>&1 ||
		fail "nfs-ganesha did not start: $(tail -5 "$T/ganesha.log")"
}

# nfs_ganesha_kill: ganesha gone at once, as in a crash.
nfs_ganesha_kill() {
	kill -KILL "$NFS_PID" 2> /dev/null
	wait_gone "$NFS_PID" || fail "nfs-ganesha $NFS_PID outlived SIGKILL"
}

# The exports first, while their server still answers their last flush.
nfs_cleanup() {
	local rc=$?

	[ -n "${NFS_PID:-}" ] && kill -CONT "$NFS_PID" 2> /dev/null
	stop_all_servers
	SERVER_PIDS=("${NFS_PIDS[@]}")
	stop_all_servers
	umount -l "$T/mnt" 2> /dev/null
	umount -l "$T/export"
	(exit $rc)
	cb_cleanup
}

# nfs_ci NAME OPTIONS FORMAT [FILE]: connection_info for $T/export/NAME in
# FILE (default $T/ci.json).
nfs_ci() {
	jq -n --arg e "127.0.0.1:$T/export" --arg n "$1" --arg o "$2" --arg f "$3" \
		'{driver_volume_type: "nfs", data: {export: $e, name: $n, format: $f,
		  options: (if $o == "" then null else $o end), access_mode: "rw"}}' \
		> "${4:-$T/ci.json}"
}
