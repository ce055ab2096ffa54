#!/usr/bin/env bash
# On a kernel without nbd (this host's, where scripts/test runs): export
# --kernel-nbd and local-attach --export nbd fail at once, saying what is
# missing, and the attach is rolled back; --export auto falls back to a
# FUSE file with a loop device over it.  Against a fake Cinder
# (tests/fake_cinder.py, noauth).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
[ ! -e /sys/module/nbd ] || skip "this kernel has nbd: tests/test-kernel-nbd-*.sh cover it"
[ "$(id -u)" = 0 ] || skip "local-attach needs root (FUSE mounts, loop devices)"
require_cmd jq losetup

make_disk "$T/vol" 16M
make_ci "$T/vol"
! "$CINDER_BRICK" export --connection-info "$T/ci.json" --kernel-nbd 2> "$T/err" ||
	fail "export --kernel-nbd succeeded on a kernel without nbd"
grep -q "no /dev/nbdN: the kernel has no nbd module" "$T/err" ||
	fail "export --kernel-nbd does not say why: $(cat "$T/err")"
echo "ok - export --kernel-nbd: $(cat "$T/err")"

VOL=1d6f5a4e-3f1c-4a36-9f6e-000000000003
start_fake_cinder "$T/cinder.log" "$T/ci.json" "$VOL"

! "$CINDER_BRICK" local-attach --export nbd --allow-local-path "$T" fakevol 2> "$T/err" ||
	fail "local-attach --export nbd succeeded on a kernel without nbd"
grep -q "cannot export as kernel NBD: the kernel has no nbd module.*use the FUSE export" \
	"$T/err" || fail "local-attach --export nbd does not say why: $(cat "$T/err")"
! grep -qs "POST /v3/p1/attachments" "$T/cinder.log" ||
	fail "Cinder was asked for an attachment before the export was known to be impossible"
echo "ok - local-attach --export nbd: refused before Cinder is asked"

built fuse || skip "this build has no FUSE export, the fallback"
"$CINDER_BRICK" local-attach --json --allow-local-path "$T" fakevol > "$T/out" 2> "$T/err" ||
	fail "local-attach (auto): $(cat "$T/err")"
SERVER_PIDS+=("$(jq -r .pid "$T/out")")
[ "$(jq -r .export "$T/out")" = fuse ] || fail "auto chose $(jq -r .export "$T/out"), not fuse"
[[ "$(jq -r .device "$T/out")" == /dev/loop* ]] || fail "auto gave $(jq -r .device "$T/out")"
"$CINDER_BRICK" local-detach fakevol 2> "$T/err" || fail "local-detach: $(cat "$T/err")"
echo "ok - local-attach --export auto: a FUSE file and $(jq -r .device "$T/out")"
