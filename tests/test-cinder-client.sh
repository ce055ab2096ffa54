#!/usr/bin/env bash
# The Cinder client library (src/cinder) against the real lab (scripts/lab
# up): authentication by OS_* variables, by clouds.yaml (OS_CLIENT_CONFIG_FILE
# and ~/.config/openstack), by token and by application credential; a volume
# through the attachments API and the legacy actions, at the negotiated
# microversion and pinned to 3.44; Keystone's own message and the status for
# a wrong password; no password or token in the debug log.
# Skipped (exit 77) when the lab is not running.
set -uo pipefail

SRC=${TESTS_SRCDIR:?must name the tests directory}
. "$SRC/lib.sh" || exit 99
PROG=$(dirname "${CINDER_BRICK:?must name the cinder-brick binary}")/tests/cinder-client-lab
LAB_CMD=$SRC/../scripts/lab
LAB=${LAB_STATE:-/var/lib/cinder-brick-lab}
# Debian's python3 for the openstack CLI (a pyenv one lacks its modules).
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH

pass() { echo "ok - $*"; }

[ -x "$PROG" ] || fail "$PROG is not built"
[ -x "$LAB_CMD" ] || skip "no scripts/lab"
require_lab
. "$SRC/lab-lock.sh" || exit 99
lab_lock shared
RC=$("$LAB_CMD" env demo 2>/dev/null) || skip "scripts/lab env demo failed"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Runs PROG with only the lab's demo settings; extra VAR=value words first.
demo() { (unset "${!OS_@}"; eval "$RC"; env "$@"); }
# Runs PROG with no OS_* setting but the VAR=value words given.
bare() { (unset "${!OS_@}"; env "$@"); }

# --- the whole flow, as demo from OS_* variables
demo "$PROG" flow >"$T/flow.out" 2>&1 || fail "flow: $(cat "$T/flow.out")"
cat "$T/flow.out"
grep -q "microversion 3.70" "$T/flow.out" || fail "the lab's Cinder should give 3.70"
pass "flow at the negotiated microversion"

# --- again with the attachments API of 3.44 (no attach mode)
demo OS_VOLUME_API_VERSION=3.44 "$PROG" flow >"$T/flow44.out" 2>&1 ||
	fail "flow at 3.44: $(cat "$T/flow44.out")"
grep -q "microversion 3.44 " "$T/flow44.out" || fail "3.44 not pinned: $(head -1 "$T/flow44.out")"
grep -q "read-only attachment below 3.54" "$T/flow44.out" || fail "no ro refusal at 3.44"
pass "flow pinned to 3.44"

# --- clouds.yaml: named by OS_CLIENT_CONFIG_FILE, then found in ~/.config
[ -r "$LAB/clouds.yaml" ] || fail "no $LAB/clouds.yaml"
bare OS_CLIENT_CONFIG_FILE="$LAB/clouds.yaml" OS_CLOUD=lab-demo "$PROG" auth \
	>"$T/cy.out" 2>&1 || fail "clouds.yaml via OS_CLIENT_CONFIG_FILE: $(cat "$T/cy.out")"
pass "clouds.yaml via OS_CLIENT_CONFIG_FILE"
mkdir -p "$T/home/.config/openstack" "$T/cwd"
install -m 600 "$LAB/clouds.yaml" "$T/home/.config/openstack/clouds.yaml"
(cd "$T/cwd" && bare HOME="$T/home" OS_CLOUD=lab-demo "$PROG" auth) >"$T/cy2.out" 2>&1 ||
	fail "clouds.yaml in ~/.config/openstack: $(cat "$T/cy2.out")"
pass "clouds.yaml in ~/.config/openstack"

# --- a wrong password: Keystone's words, the status, and OS_PASSWORD
# taking precedence over clouds.yaml's password
(cd "$T/cwd" && bare HOME="$T/home" OS_CLOUD=lab-demo OS_PASSWORD=wrong-password \
	"$PROG" auth) >"$T/bad.out" 2>&1 && fail "a wrong password was accepted"
grep -q "The request you have made requires authentication." "$T/bad.out" ||
	fail "no Keystone message: $(cat "$T/bad.out")"
grep -q "HTTP 401" "$T/bad.out" || fail "no status: $(cat "$T/bad.out")"
pass "wrong password: $(tail -1 "$T/bad.out")"

# --- token and application credential, with the debug log checked for
# the secrets it must not show
PASSWORD=$(demo sh -c 'printf %s "$OS_PASSWORD"')
if command -v openstack >/dev/null; then
	TOKEN=$(demo openstack token issue -f value -c id) || fail "openstack token issue"
	demo OS_AUTH_TYPE=token OS_TOKEN="$TOKEN" OS_PASSWORD= "$PROG" --debug auth \
		>"$T/token.out" 2>&1 || fail "token auth: $(grep -v debug "$T/token.out")"
	pass "token auth"
	grep -qF -- "$TOKEN" "$T/token.out" && fail "the token is in the debug log"
	grep -q '"token":{"id":"\*\*\*"}' "$T/token.out" || fail "token not masked in the request"
	grep -q 'X-Subject-Token: \*\*\*' "$T/token.out" || fail "X-Subject-Token not masked"
	grep -q 'X-Auth-Token: \*\*\*' "$T/token.out" || fail "X-Auth-Token not masked"
	pass "no token in the debug log"

	NAME=cinder-client-lab-$$
	CRED=$(demo openstack application credential create "$NAME" -f json) ||
		fail "openstack application credential create"
	read -r CRED_ID CRED_SECRET < <(python3 -c \
		'import json,sys; d=json.load(sys.stdin); print(d["id"], d["secret"])' <<<"$CRED")
	AUTH_URL=$(demo sh -c 'printf %s "$OS_AUTH_URL"')
	bare OS_AUTH_URL="$AUTH_URL" OS_APPLICATION_CREDENTIAL_ID="$CRED_ID" \
		OS_APPLICATION_CREDENTIAL_SECRET="$CRED_SECRET" "$PROG" --debug auth \
		>"$T/appcred.out" 2>&1
	status=$?
	demo openstack application credential delete "$NAME" >/dev/null 2>&1
	[ $status -eq 0 ] || fail "application credential auth: $(grep -v debug "$T/appcred.out")"
	grep -qF -- "$CRED_SECRET" "$T/appcred.out" && fail "the secret is in the debug log"
	pass "application credential auth, secret not logged"
else
	echo "# no openstack CLI: token and application credential not tested"
fi
demo "$PROG" --debug auth >"$T/pw.out" 2>&1 || fail "debug auth: $(cat "$T/pw.out")"
grep -qF -- "$PASSWORD" "$T/pw.out" && fail "the password is in the debug log"
grep -q '"password":"\*\*\*"' "$T/pw.out" || fail "password not masked in the request"
pass "no password in the debug log"
