#!/usr/bin/env bash
# TLS of the Cinder client (src/cinder/http.c) against a real TLS server on
# 127.0.0.1 (openssl s_server with a self-signed certificate): verified by
# default, so the handshake fails; OS_CACERT, clouds.yaml cacert and
# OS_INSECURE (with its warning) let it through.  The server speaks no
# Cinder, so a passed handshake shows as "the answer is not JSON".
# Also covers noauth with an endpoint from OS_ENDPOINT and clouds.yaml.
set -uo pipefail

PROG=$(dirname "${CINDER_BRICK:?must name the cinder-brick binary}")/tests/cinder-client-lab
[ -x "$PROG" ] || { echo "FAIL: $PROG is not built" >&2; exit 1; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

T=$(mktemp -d)
SERVER=
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
	2>/dev/null || fail "openssl req"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$PORT" -cert "$T/cert.pem" -key "$T/key.pem" \
	-www -quiet </dev/null >"$T/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
URL=https://127.0.0.1:$PORT/v3

# Only noauth settings: no Keystone is involved.
run() {
	(unset "${!OS_@}"; env OS_AUTH_TYPE=noauth OS_PROJECT_ID=p1 "$@" "$PROG" auth) \
		>"$T/out" 2>&1 && fail "a non-Cinder server was accepted: $(cat "$T/out")"
}

run OS_ENDPOINT="$URL"
grep -q "certificate" "$T/out" || fail "no certificate error by default: $(cat "$T/out")"
pass "verified by default: $(tail -1 "$T/out")"

run OS_ENDPOINT="$URL" OS_CACERT="$T/cert.pem"
grep -q "answer is not JSON" "$T/out" || fail "OS_CACERT not used: $(cat "$T/out")"
grep -qF "GET https://127.0.0.1:$PORT/)" "$T/out" || fail "not the version root: $(cat "$T/out")"
pass "OS_CACERT trusts the server"

run OS_ENDPOINT="$URL" OS_INSECURE=true
grep -q "answer is not JSON" "$T/out" || fail "OS_INSECURE not used: $(cat "$T/out")"
grep -q "warning: TLS certificate verification is disabled" "$T/out" ||
	fail "no warning for insecure: $(cat "$T/out")"
pass "OS_INSECURE skips verification, with a warning"

cat >"$T/clouds.yaml" <<-YAML
	clouds:
	  tls:
	    auth_type: noauth
	    auth:
	      project_id: p1
	    block_storage_endpoint_override: $URL
	    cacert: $T/cert.pem
	  tls-insecure:
	    auth_type: noauth
	    auth:
	      project_id: p1
	    block_storage_endpoint_override: $URL
	    verify: false
YAML
run OS_CLIENT_CONFIG_FILE="$T/clouds.yaml" OS_CLOUD=tls
grep -q "answer is not JSON" "$T/out" || fail "clouds.yaml cacert not used: $(cat "$T/out")"
pass "clouds.yaml cacert"
run OS_CLIENT_CONFIG_FILE="$T/clouds.yaml" OS_CLOUD=tls-insecure
grep -q "verification is disabled" "$T/out" || fail "clouds.yaml verify: false not used: $(cat "$T/out")"
pass "clouds.yaml verify: false"
# The environment wins over clouds.yaml.
run OS_CLIENT_CONFIG_FILE="$T/clouds.yaml" OS_CLOUD=tls-insecure OS_INSECURE=false
grep -q "certificate" "$T/out" || fail "OS_INSECURE=false did not win: $(cat "$T/out")"
pass "OS_INSECURE=false over verify: false"
