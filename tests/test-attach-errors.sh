#!/usr/bin/env bash
# local-attach and local-detach failures: usage errors (exit 2), then a
# wrong password, an unknown volume, a backend that cannot open the
# volume (after Cinder gave the connection: rolled back), a volume attached here already, one
# in use elsewhere, and a detach with nothing to detach
# (exit 1), each with a message naming the cause, and nothing left
# behind: the volume available with no attachment, no process, loop
# device, FUSE mount or state file.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

for cmd in local-attach local-detach list; do
	must "$cmd" --help
	for opt in --os-auth-url --os-password --os-volume-api-version --insecure --debug; do
		[ "$cmd" = list ] || grep -q -- "$opt" "$T/out" || fail "$cmd --help lacks $opt"
	done
	grep -q 'Exit status' "$T/out" || fail "$cmd --help lacks the exit status"
done
must_fail 2 "VOLUME is required" local-attach
must_fail 2 "--mode is rw or ro" local-attach --mode rx vol
must_fail 2 "--export is auto, nbd or fuse" local-attach --export ndb vol
must_fail 2 "unknown or incomplete option" local-detach --bogus vol
must_fail 2 "unexpected argument" list vol
echo "ok - usage errors"

NAME=cb-attach-err-$$
new_volume "$NAME"

must_fail 1 "requires authentication.*HTTP 401" local-attach --os-password wrong-password "$NAME"
grep -q wrong-password "$T/err" && fail "the password is in the error"
assert_clean "$VOL"
must_fail 1 "no volume has the ID or name \"no-such-volume-$$\"" local-attach "no-such-volume-$$"
assert_clean "$VOL"
must_fail 1 "no attachment in Cinder and none here" local-detach "$NAME"
echo "ok - wrong password, unknown volume, nothing to detach"

# A failure once Cinder has given the connection: rolled back in both flows.
printf '[client.cinder]\n\tkey = AQBAdwAAAAAAABAAx5vWMV3nFDuQVLvgzTGGmw==\n' > "$T/bad.keyring"
must_fail 1 "cannot attach volume $VOL" local-attach --rbd-keyring "$T/bad.keyring" "$NAME"
assert_clean "$VOL"
must_fail 1 "cannot attach volume $VOL" local-attach --os-volume-api-version 3.0 \
	--rbd-keyring "$T/no-such.keyring" "$NAME"
assert_clean "$VOL"
echo "ok - a backend that cannot open the volume: rolled back (v3 and legacy)"

attach "$NAME"
must_fail 1 "already attached here as $DEV" local-attach "$NAME"
[ "$(vol_field "$VOL" status)" = in-use ] || fail "the refused attach changed the volume"
must local-detach "$NAME"
assert_clean "$VOL"

# In use elsewhere: an attachment another host made.
api POST /attachments "{\"attachment\": {\"volume_uuid\": \"$VOL\", \"connector\":
	{\"host\": \"elsewhere\", \"ip\": \"127.0.0.2\", \"initiator\": \"iqn.x:y\",
	 \"platform\": \"x86_64\", \"os_type\": \"linux\", \"multipath\": false}}}" > "$T/att"
OTHER=$(jq -r .attachment.id "$T/att")
must_fail 1 "is (attaching|reserved|in-use), not available" local-attach "$NAME"
api DELETE "/attachments/$OTHER" > /dev/null
assert_clean "$VOL"
echo "ok - already attached here, in use elsewhere"
