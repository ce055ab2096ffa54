#!/usr/bin/env bash
# Odd answers from a fake Cinder (tests/odd_cinder.py on 127.0.0.1, noauth)
# get messages that name the call and what is wrong with the answer: a body
# over the 16 MiB limit (with and without a Content-Length) says so instead
# of curl's "Failure writing output to destination"; answers that are not
# objects, members of the wrong type, missing or path-like IDs; Keystone
# answers without a project, a catalog or a token.  The same client then
# works against the same server.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
PROG=$(dirname "$CINDER_BRICK")/tests/cinder-client-lab
[ -x "$PROG" ] || fail "$PROG is not built"

"$PY" "$TESTS_SRCDIR/odd_cinder.py" "$T/port" &
SERVER_PIDS+=($!)
wait_for 100 test -s "$T/port" || fail "the fake Cinder did not start"
URL=http://127.0.0.1:$(cat "$T/port")/v3

# run CMD ARG: the client against the fake Cinder; output in $T/out.
run() {
	(unset "${!OS_@}"; OS_AUTH_TYPE=noauth OS_PROJECT_ID=p1 OS_ENDPOINT=$URL \
		timeout 60 "$PROG" "$@") > "$T/out" 2>&1
}

# odd TEXT CMD ARG: the call must fail with TEXT (fixed string) in its error.
odd() {
	local text=$1

	shift
	run "$@" && fail "$*: an odd answer was accepted: $(cat "$T/out")"
	grep -qF -- "$text" "$T/out" || fail "$*: '$text' not in: $(cat "$T/out")"
	grep -q "Failure writing output" "$T/out" && fail "$*: curl's words: $(cat "$T/out")"
	echo "ok - $* ($(grep FAIL "$T/out" | sed 's/^cinder-client-lab: FAIL: //'))"
}

run volume good || fail "a good answer: $(cat "$T/out")"
grep -q "is available" "$T/out" || fail "good answer: $(cat "$T/out")"

odd "get volume huge: the answer is larger than 16777216 bytes (16 MiB)" volume huge
grep -qF "(HTTP 200, GET $URL/p1/volumes/huge)" "$T/out" || fail "huge: no call: $(cat "$T/out")"
odd "get volume huge-stream: the answer is larger than 16777216 bytes" volume huge-stream
odd "get volume array: the answer is an array, not a JSON object" volume array
odd "get volume empty: the answer is empty, not a JSON object" volume empty
odd "get volume not-json: the answer is not JSON" volume not-json
odd "get volume no-volume: the answer has no \"volume\"" volume no-volume
odd "get volume volume-string: \"volume\" in the answer is a string, not an object" \
	volume volume-string
odd "get volume no-id: \"volume\" in the answer has no \"id\"" volume no-id
odd "get volume path-id: \"volume.id\" in the answer is not an ID" volume path-id
grep -q passwd "$T/out" && fail "the odd ID was quoted back"
odd "get volume no-status: \"volume\" in the answer has no \"status\"" volume no-status
odd "get volume status-number: \"volume.status\" in the answer is a number, not a string" \
	volume status-number
odd "\"volume.attachments\" in the answer is an object, not an array" volume attachments-object
odd "\"volume.attachments[0]\" in the answer has no \"attachment_id\"" volume attachment-no-id
odd "find volume \"volumes-object\": \"volumes\" in the answer is an object, not an array" \
	find volumes-object
odd "find volume \"volumes-no-status\": \"volumes[1]\" in the answer has no \"status\"" \
	find volumes-no-status
odd "list attachments of volume list-object: \"attachments\" in the answer is an object" \
	attachments list-object
odd "list attachments of volume list-no-id: \"attachments[0]\" in the answer has no \"id\"" \
	attachments list-no-id
odd "\"attachments[0]\" in the answer has no \"volume_id\"" attachments list-no-volume-id
odd "create attachment for volume att-no-id: \"attachment\" in the answer has no \"id\"" \
	attach att-no-id
odd "\"attachment\" in the answer is a string, not an object" attach att-string

# keystone CASE: password authentication as user CASE against the fake.
keystone() {
	(unset "${!OS_@}"; OS_AUTH_URL=$URL OS_USERNAME=$1 OS_PASSWORD=pw OS_PROJECT_ID=p1 \
		timeout 60 "$PROG" auth) > "$T/out" 2>&1
}

# odd_keystone TEXT CASE: the authentication must fail with TEXT.
odd_keystone() {
	keystone "$2" && fail "$2: an odd Keystone answer was accepted: $(cat "$T/out")"
	grep -qF -- "$1" "$T/out" || fail "$2: '$1' not in: $(cat "$T/out")"
	echo "ok - keystone $2 ($(grep FAIL "$T/out" | sed 's/^cinder-client-lab: FAIL: //'))"
}

odd_keystone "Keystone authentication of user ks-array: the answer is an array, not a JSON object" \
	ks-array
odd_keystone "a token that is not scoped to a project (\"token\" in the answer has no \"project\")" \
	ks-unscoped
odd_keystone "\"token.catalog\" in the answer is a string, not an array" ks-catalog-string
odd_keystone "\"token.project.id\" in the answer is not an ID" ks-project-id-path
odd_keystone "Keystone sent no X-Subject-Token" ks-no-header

run volume good || fail "the server after the odd answers: $(cat "$T/out")"
is_alive "${SERVER_PIDS[0]}" || fail "the fake Cinder died"
exit 0
