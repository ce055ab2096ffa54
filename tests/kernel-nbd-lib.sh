# Helpers for the tests of /dev/nbdN (tests/test-kernel-nbd-*.sh).
#
# This host's kernel may have no nbd module, so each such test runs itself
# inside a small VM booting Debian's own kernel (scripts/vm-run): sourced
# on the host, this file re-executes the test there and exits with its
# status.  In the guest, $T is on the guest's own tmpfs, and the binaries
# and sources are read from the host over 9p.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99

if [ -z "${VMRUN_GUEST:-}" ]; then
	command -v qemu-system-x86_64 > /dev/null 2>&1 ||
		skip "qemu-system-x86_64 is not installed (scripts/install-deps installs it)"
	# The guest has tmpfs of its own on /tmp and /root, where a checkout
	# may well be: the checkout and the build are shared explicitly.
	top=$(cd "$TESTS_SRCDIR/.." && pwd)
	shares=(--share "$top")
	case $PWD/ in "$top"/*) ;; *) shares+=(--share "$PWD") ;; esac
	exec "$top/scripts/vm-run" "${shares[@]}" --timeout "${KN_VM_TIMEOUT:-400}" -- \
		bash "$0" "$@"
fi
cb_init
# A test that fails with a filesystem mounted still cleans up.
kn_cleanup() {
	local rc=$? m

	for m in $(findmnt -rn -o TARGET | grep "^$T/" | sort -r); do
		umount -l "$m"
	done
	(exit $rc)
	cb_cleanup
}
trap kn_cleanup EXIT
[ -e /sys/module/nbd ] || fail "the VM's kernel has no nbd module loaded"
require_cmd mkfs.ext4 blockdev losetup

# kn_start ARGS...: cinder-brick export --kernel-nbd ARGS on $T/ci.json (or
# CONN_INFO=FILE), ready when it returns; sets DEV (/dev/nbdN), SERVER_PID.
kn_start() {
	start_server --kernel-nbd "$@"
	DEV=$NBD_URI
	[ -b "$DEV" ] || fail "export --kernel-nbd printed '$DEV', not a block device"
}

# kn_index DEV: N of /dev/nbdN.
kn_index() {
	echo "${1#/dev/nbd}"
}

# kn_sys DEV ATTR: /sys/block/nbdN/ATTR.
kn_sys() {
	cat "/sys/block/nbd$(kn_index "$1")/$2" 2> /dev/null
}

# kn_stop PID DEV: SIGTERM, then the process and the device are gone.
kn_stop() {
	kill -TERM "$1" || fail "server $1 is gone before its SIGTERM"
	wait_gone "$1" || fail "server $1 did not exit after SIGTERM"
	[ "$(kn_sys "$2" size)" = 0 ] || fail "$2 still has size $(kn_sys "$2" size) after the stop"
}
