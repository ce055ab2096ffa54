#!/usr/bin/env bash
# scripts/vm-run, the harness the kernel NBD tests run in: the command's
# exit status, stdout and stderr come back apart; the caller's environment
# and working directory arrive; the share is writable at the same path, and
# below /tmp too (the guest's own tmpfs is mounted first); nbd is loaded
# with its devices; --timeout kills the VM with status 124 and leaves no
# qemu behind.  Two boots, about 15 s under TCG.
. "$TESTS_SRCDIR/lib.sh"

VMRUN=$TESTS_SRCDIR/../scripts/vm-run

require_cmd qemu-system-x86_64
cb_init

share=$T/share
mkdir "$share" "$T/runs" || fail "mkdir"
cd "$share" || fail "cd $share"

# A value that only survives exact quoting.
export CB_VM_PROBE="two  spaces, 'quotes' and \$dollar"
"$VMRUN" --timeout 120 -- bash -c '
	echo "to stdout"
	echo "to stderr" >&2
	printf %s "$CB_VM_PROBE" > env.txt
	pwd > pwd.txt
	echo "$VMRUN_GUEST" > guest.txt
	[ -d /sys/module/nbd ] && echo module > nbd.txt
	stat -c %F /dev/nbd0 >> nbd.txt
	exit 3' > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "exit 3 in the guest came back as $rc"; }
[ "$(cat "$T/out")" = "to stdout" ] || fail "stdout is '$(cat "$T/out")'"
[ "$(cat "$T/err")" = "to stderr" ] || fail "stderr is '$(cat "$T/err")'"
[ -e "$share/env.txt" ] || fail "the guest's file is not in the share on the host"
[ "$(cat "$share/env.txt")" = "$CB_VM_PROBE" ] ||
	fail "the environment arrived as '$(cat "$share/env.txt")'"
[ "$(cat "$share/pwd.txt")" = "$share" ] || fail "the guest ran in $(cat "$share/pwd.txt"), not $share"
[ "$(cat "$share/guest.txt")" = 1 ] || fail "VMRUN_GUEST is not 1 in the guest"
[ "$(cat "$share/nbd.txt")" = "module
block special file" ] || fail "nbd in the guest: $(tr '\n' ' ' < "$share/nbd.txt")"

# In the background, so that the qemu it starts is seen running: the check
# that none is left after is then one that can fail.  TMPDIR: its run
# directory, which must go too.
start=$SECONDS
TMPDIR=$T/runs "$VMRUN" --timeout 3 -- sleep 100 > /dev/null 2> "$T/err" &
vm=$!
qemu_of_test() { pgrep -f "qemu-system-x86_64 .*path=$share," > /dev/null; }
wait_for 50 qemu_of_test || fail "no qemu running for the share $share"
wait "$vm"
rc=$?
[ "$rc" = 124 ] || { cat "$T/err" >&2; fail "a timeout returned $rc, not 124"; }
((SECONDS - start <= 15)) || fail "--timeout 3 took $((SECONDS - start)) s"
! qemu_of_test || fail "qemu still runs after the timeout"
[ -z "$(ls -A "$T/runs")" ] || fail "the run directory was left: $(ls -A "$T/runs")"
exit 0
