#!/usr/bin/env bash
# local-detach after the serving process was killed (kill -9): without
# --force it refuses and says to use --force; with it, the stale loop
# device, FUSE mount and state are cleaned up and the volume detached.
# Then a detach with the local state lost, from Cinder's attachment list,
# after a clean exit and after kill -9 (the loop device found by its backing file).
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

NAME=cb-attach-force-$$
new_volume "$NAME"

attach "$NAME"
kill -KILL "$PID"
wait_gone "$PID" || fail "kill -9 did not stop $PID"
must list
grep -q "^$VOL .* dead$" "$T/out" || fail "list does not show the dead export: $(cat "$T/out")"
must_fail 1 "is gone .*--force" local-detach "$NAME"
[ "$(vol_field "$VOL" status)" = in-use ] || fail "a refused detach changed the volume"
must local-detach --force "$NAME"
assert_clean "$VOL"
echo "ok - --force after kill -9"

attach "$NAME"
kill -TERM "$PID"
wait_gone "$PID" || fail "$PID did not stop"
rm "/run/cinder-brick/$VOL.json"
must local-detach "$NAME"
assert_clean "$VOL"
echo "ok - detach from Cinder's attachment list with the local state gone"

attach "$NAME"
kill -KILL "$PID"
wait_gone "$PID" || fail "kill -9 did not stop $PID"
rm "/run/cinder-brick/$VOL.json"
must local-detach --force "$NAME"
assert_clean "$VOL"
echo "ok - kill -9 and the state lost: the leftover loop device and FUSE mount found and removed"
