#!/usr/bin/env bash
# local-attach and local-detach through the lab's HTTPS front (nginx before
# Keystone and Cinder, a lab CA), as the non-admin user demo: without the
# CA the attach fails on the certificate, says how to fix it and leaves
# nothing behind; with --os-cacert, then OS_CACERT, it works, every call
# goes to https and the debug log shows no secret; --insecure works and
# warns.  Volumes are made and checked over plain HTTP (attach-lib.sh).
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
TLS_RC=$("$LAB_CMD" env demo --tls 2> /dev/null) || skip "scripts/lab env demo --tls failed"
(eval "$TLS_RC" && curl -sf -o /dev/null -m 5 --cacert "$OS_CACERT" "$OS_AUTH_URL") ||
	skip "the lab's TLS front (nginx) is not running: scripts/lab up"
attach_init

unset "${!OS_@}"
eval "$TLS_RC"
# The CA only where a step names it; clouds.yaml would add it back.
CA=$OS_CACERT
unset OS_CACERT OS_CLOUD OS_CLIENT_CONFIG_FILE
[[ $OS_AUTH_URL == https://* ]] || fail "the TLS openrc has $OS_AUTH_URL"
# A failed step leaves an attachment that the cleanup must reach over TLS.
tls_cleanup() {
	local rc=$?

	export OS_CACERT=$CA
	(exit $rc)
	attach_cleanup
}
trap tls_cleanup EXIT

NAME=cb-attach-tls-$$
new_volume "$NAME"
pattern_file "$T/pattern" 1048576 90

must_fail 1 "certificate" local-attach "$NAME"
grep -q -- "--os-cacert FILE.*--insecure" "$T/err" ||
	fail "the certificate error does not say the fix: $(cat "$T/err")"
assert_clean "$VOL"
echo "ok - unknown CA: $(cat "$T/err")"

# No cached token: Keystone is asked, over https.
rm -f $(token_entries)
attach --debug --os-cacert "$CA" "$NAME"
grep -q "http: > POST https://127.0.0.1:[0-9]*/v3/auth/tokens" "$T/err" ||
	fail "Keystone was not asked over https: $(grep 'http: >' "$T/err")"
grep -q "http: > POST https://127.0.0.1:[0-9]*/v3/[0-9a-f]*/attachments" "$T/err" ||
	fail "the attachment was not made over https: $(grep 'http: >' "$T/err")"
! grep 'http: > [A-Z]* ' "$T/err" | grep -v ' https://' ||
	fail "a call went elsewhere than https"
! grep -qF -- "$OS_PASSWORD" "$T/err" || fail "the password is in the debug log"
grep -q 'X-Auth-Token: \*\*\*' "$T/err" || fail "X-Auth-Token not masked"
! grep -Eq 'X-(Auth|Subject)-Token: [^*]' "$T/err" || fail "a token is in the debug log"
dd if="$T/pattern" of="$DEV" bs=1M oflag=direct status=none || fail "cannot write $DEV"
must local-detach --os-cacert "$CA" "$NAME"
wait_gone "$PID" || fail "the serving process outlived local-detach"
assert_clean "$VOL"
echo "ok - --os-cacert: attach, write, detach, all over https, no secret logged"

export OS_CACERT=$CA
attach "$VOL"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "the pattern did not survive detach/attach"
must local-detach "$VOL"
assert_clean "$VOL"
unset OS_CACERT
echo "ok - OS_CACERT: pattern read back after detach and attach"

attach --insecure "$NAME"
grep -q "warning: TLS certificate verification is disabled" "$T/err" ||
	fail "no warning for --insecure: $(cat "$T/err")"
must local-detach --insecure "$NAME"
grep -q "warning: TLS certificate verification is disabled" "$T/err" ||
	fail "no warning for --insecure on detach: $(cat "$T/err")"
assert_clean "$VOL"
echo "ok - --insecure: attach and detach, with the warning"
