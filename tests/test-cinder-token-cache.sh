#!/usr/bin/env bash
# The CLI's Keystone token cache (/run/cinder-brick/tokens) against the real
# lab, as the non-admin user demo: the first command stores the token (dir
# 0700, file 0600, no password in it, unreadable by another user), the next
# reuses it (no POST .../auth/tokens in the --debug log); a cached token that
# is garbage, or revoked in Keystone, gets Cinder's 401, one new token and
# success, and the entry is replaced; one expiring within the margin is not
# used; a wrong password is still refused; --os-token writes nothing.
# Exclusive lab lock: it edits the demo user's entry, which other tests use.
LAB_LOCK_MODE=exclusive
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

CACHE=/run/cinder-brick/tokens
KEYSTONE_POST="POST $OS_AUTH_URL/auth/tokens"

entry() {
	local e

	e=$(token_entries)
	[ "$(wc -l <<< "$e")" = 1 ] && [ -n "$e" ] || fail "not one entry of demo: '$e'"
	echo "$e"
}

# posts: how many tokens the last command asked Keystone for.
posts() { grep -cF "http: > $KEYSTONE_POST" "$T/err"; }

# edit FILTER: rewrites the entry with jq, keeping it 0600 and atomic.
edit() {
	local e

	e=$(entry)
	jq "$@" "$e" > "$T/entry" && install -m 600 "$T/entry" "$e.new" && mv "$e.new" "$e" ||
		fail "cannot edit $e"
}

token_of() { jq -r .token "$(entry)"; }

# renewed BAD: the last command got Cinder's 401 for the cached token BAD,
# asked Keystone for one new token, and the entry now holds that.
renewed() {
	[ "$(posts)" = 1 ] || fail "$(posts) token requests after a bad token"
	grep -q "Cinder refused the token; authenticating again" "$T/err" ||
		fail "no 401 and retry for a bad token: $(cat "$T/err")"
	[ "$(token_of)" != "$1" ] || fail "the bad token is still cached"
	[ "$(stat -c %a "$(entry)")" = 600 ] || fail "the new entry is not 0600"
}

NAME=cb-token-cache-$$
new_volume "$NAME"
rm -f $(token_entries)

# --- cold: a token from Keystone, stored
must local-attach --debug "$VOL"
[ "$(posts)" = 1 ] || fail "cold attach: $(posts) token requests"
grep -q "token cache: stored the token in $CACHE/" "$T/err" || fail "not stored: $(cat "$T/err")"
E=$(entry)
[ "$(stat -c %a:%U "$CACHE")" = 700:root ] || fail "cache dir is $(stat -c %a:%U "$CACHE")"
[ "$(stat -c %a:%U "$E")" = 600:root ] || fail "entry is $(stat -c %a:%U "$E")"
! grep -qF -- "$OS_PASSWORD" "$E" || fail "the password is in the cache"
[[ $(basename "$E") =~ ^[0-9a-f]{16}\.json$ ]] || fail "entry name $(basename "$E")"
! grep -qF -- "$(token_of)" "$T/err" || fail "the token is in the debug log"
echo "ok - cold: one token, stored in $E"

# --- another user can read neither the entry nor the directory
require_cmd setpriv
setpriv --reuid 65534 --regid 65534 --clear-groups cat "$E" > /dev/null 2>&1 &&
	fail "uid 65534 can read the entry"
setpriv --reuid 65534 --regid 65534 --clear-groups ls "$CACHE" > /dev/null 2>&1 &&
	fail "uid 65534 can list the cache"
echo "ok - not readable by uid 65534"

# --- warm: the next command asks Keystone for nothing
must local-detach --debug "$VOL"
[ "$(posts)" = 0 ] || fail "warm detach asked Keystone: $(grep -F -- "$KEYSTONE_POST" "$T/err")"
grep -q "token cache: reusing the token" "$T/err" || fail "not reused: $(cat "$T/err")"
assert_clean "$VOL"
echo "ok - warm: detach reused the token"

# --- a wrong password is refused, the entry is left alone
OLD=$(token_of)
must_fail 1 "requires authentication.*HTTP 401" local-attach --os-password wrong-password "$VOL"
[ "$(token_of)" = "$OLD" ] || fail "a wrong password replaced the entry"
echo "ok - a wrong password is still refused"

# --- garbage in the entry: Cinder's 401, one new token, the entry replaced
edit '.token = "gAAAAA-not-a-token"'
must local-attach --debug "$VOL"
renewed gAAAAA-not-a-token
[ "$(token_of)" != "$OLD" ] || fail "the old token came back"
echo "ok - a garbage token: 401, one new token, entry replaced"

# --- a token revoked in Keystone, never seen by Cinder (which caches the
# validations it made)
OUR_TOKEN=$TOKEN
lab_login
REVOKED=$TOKEN
TOKEN=$OUR_TOKEN
[ "$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X DELETE -H "X-Auth-Token: $TOKEN" \
	-H "X-Subject-Token: $REVOKED" "$OS_AUTH_URL/auth/tokens")" = 204 ] ||
	fail "Keystone did not revoke the token"
edit --arg t "$REVOKED" '.token = $t'
must local-detach --debug "$VOL"
renewed "$REVOKED"
assert_clean "$VOL"
echo "ok - a revoked token: 401, one new token, entry replaced"

# --- an entry expiring within the margin (5 min) is not used
edit '.expires_at = (now + 120 | strftime("%Y-%m-%dT%H:%M:%S.000000Z"))'
must local-attach --debug "$VOL"
[ "$(posts)" = 1 ] || fail "expiring entry: $(posts) token requests"
grep -q "expired or expiring within the margin: not used" "$T/err" ||
	fail "no expiry reason: $(cat "$T/err")"
[ "$(jq -r '.expires_at | sub("\\.[0-9]+Z$"; "Z") | fromdate - now > 600' "$(entry)")" = true ] ||
	fail "the entry was not renewed: $(jq -r .expires_at "$(entry)")"
echo "ok - an expiring entry is not used, and is renewed"

# --- --os-token: scoped with Keystone every time, nothing written
rm -f $(token_entries)
must local-detach --debug --os-auth-type token --os-token "$TOKEN" "$VOL"
[ -z "$(token_entries)" ] || fail "--os-token wrote to the cache: $(token_entries)"
! grep -q "token cache" "$T/err" || fail "--os-token used the cache: $(grep "token cache" "$T/err")"
assert_clean "$VOL"
echo "ok - --os-token writes nothing"
exit 0
