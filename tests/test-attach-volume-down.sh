#!/usr/bin/env bash
# cinder-volume stopped: local-attach gets past the API (the attachment is
# reserved) and fails when Cinder asks cinder-volume for the connection,
# after the lab's rpc_response_timeout (10 s).  Both flows must fail with
# Cinder's own message, exit 1, and leave nothing behind: the volume
# available, no attachment.  A detach that cannot reach cinder-volume fails
# the same way (the legacy flow rolls "detaching" back to in-use) and can
# simply be run again once it is back.
# Other tests need cinder-volume: run alone (see lab-lock.sh).
LAB_LOCK_MODE=exclusive
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

# Whatever happens, the lab gets its cinder-volume back: the cleanup deletes
# volumes, which needs it.
volume_down_cleanup() {
	local rc=$?

	"$LAB_CMD" up > "$T/lab-up.log" 2>&1 || echo "scripts/lab up failed: $(tail -3 "$T/lab-up.log")" >&2
	(exit $rc)
	attach_cleanup
}
trap volume_down_cleanup EXIT

# A (attachments API) and L (legacy actions) are attached before
# cinder-volume stops, B after.
new_volume "cb-volume-down-l-$$"
L=$VOL
attach --os-volume-api-version 3.0 "$L"
L_PID=$PID
new_volume "cb-volume-down-a-$$"
A=$VOL
attach "$A"
new_volume "cb-volume-down-b-$$"
B=$VOL
"$LAB_CMD" stop cinder-volume > /dev/null 2>&1 || fail "scripts/lab stop cinder-volume failed"

must_fail 1 "cannot attach volume $B: .*Unable to (create|update) (the )?attachment.*HTTP 500" \
	local-attach "$B"
assert_clean "$B"
echo "ok - v3 flow: attachment rolled back, volume available"

must_fail 1 "cannot attach volume $B: .*HTTP 500" local-attach --os-volume-api-version 3.0 "$B"
assert_clean "$B"
echo "ok - legacy flow: unreserved, volume available"

must_fail 1 "did not end attachment $ATT: .*HTTP 500.*run local-detach again" local-detach "$A"
is_alive "$PID" && fail "the serving process $PID outlived the detach"
[ "$(vol_field "$A" status)" = in-use ] || fail "a failed detach changed the volume: $(vol_field "$A" status)"
must_fail 1 "did not end attachment .*HTTP 500.*run local-detach again" \
	local-detach --os-volume-api-version 3.0 "$L"
is_alive "$L_PID" && fail "the serving process $L_PID outlived the detach"
[ "$(vol_field "$L" status)" = in-use ] ||
	fail "os-roll_detaching did not put $L back in-use: $(vol_field "$L" status)"
"$LAB_CMD" up > "$T/lab-up.log" 2>&1 || fail "scripts/lab up: $(tail -3 "$T/lab-up.log")"
must local-detach "$A"
assert_clean "$A"
must local-detach --os-volume-api-version 3.0 "$L"
assert_clean "$L"
echo "ok - detach without cinder-volume fails (both flows), and succeeds once it is back"
