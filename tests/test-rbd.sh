#!/usr/bin/env bash
# The rbd backend against the real Ceph of scripts/lab: connection_info as
# Cinder sends it (monitors from "ceph mon dump", user cinder), with the
# keyring inline and without it (/etc/ceph/ceph.client.cinder.keyring).
# Data in and out with nbdcopy, cross-checked with "rbd export"; qemu-io
# patterns; fio verify at QD32 on one and on four connections; coherence
# between connections; the allocation map after discard and zeroing, and
# block status that does not hold up the reads behind it; FUA;
# read-only opens; and the errors for a missing key, a wrong key, a missing
# image and unreachable monitors.  Skipped (exit 77) when no lab Ceph runs.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdinfo nbdcopy qemu-io fio
require_pymod nbd
cb_init
. "$TESTS_SRCDIR/rbd-lib.sh"
trap 'rbd_release; cb_cleanup' EXIT

MiB=$((1 << 20))
SIZE=$((256 * MiB))

rbd_sha() {
	lab_rbd export --no-progress "$1" - 2> /dev/null | head -c "$2" | sha256sum | cut -d' ' -f1
}

new_image a 256M

# --- keyring inline, as a Cinder that sends it (the lab's default)
rbd_ci "$T/ci-inline.json" "$IMG" "{\"keyring\": $KEYRING_TEXT}"
CONN_INFO=$T/ci-inline.json start_unix
J=$(export_json "$NBD_URI") || fail "nbdinfo --json failed"
for f in can_flush can_fua can_trim can_zero can_fast_zero can_multi_conn can_df; do
	[ "$(jget "$J" "e[\"$f\"]")" = true ] || fail "nbdinfo: $f is not true: $J"
done
[ "$(jget "$J" 'e["export-size"]')" = $SIZE ] || fail "size: $J"
[ "$(jget "$J" 'e["is_read_only"]')" = false ] || fail "read-only: $J"
[ "$(jget "$J" 'e["block_size_minimum"]')" = 1 ] || fail "min block size: $J"

# nbdcopy in and out, and the same bytes as Ceph itself sees them.
make_disk "$T/in" 64M random
timeout 120 nbdcopy --flush "$T/in" "$NBD_URI" || fail "nbdcopy into the image"
timeout 120 nbdcopy "$NBD_URI" "$T/out" || fail "nbdcopy out of the image"
[ "$(head -c 64M "$T/out" | sha256sum | cut -d' ' -f1)" = "$(sha "$T/in")" ] ||
	fail "nbdcopy: data read back differs"
cmp -s -i 0:$((64 * MiB)) <(head -c $((SIZE - 64 * MiB)) /dev/zero) "$T/out" ||
	fail "the unwritten rest of the image does not read as zeroes"
# Flushed (--flush), so another Ceph client sees it all while we serve.
[ "$(rbd_sha "$IMG" $((64 * MiB)))" = "$(sha "$T/in")" ] ||
	fail "rbd export does not show the data nbdcopy wrote"

# qemu-io: patterns, zeroing, unaligned I/O.
timeout 60 qemu-io -f raw "$NBD_URI" \
	-c 'write -P 0xab 1M 1M' -c 'read -P 0xab 1M 1M' \
	-c 'write -z 3M 64k' -c 'read -P 0 3M 64k' \
	-c 'write -P 0x5c 5000001 12345' -c 'read -P 0x5c 5000001 12345' \
	-c 'write -f -P 0x11 0 512' -c 'read -P 0x11 0 512' -c 'flush' \
	> "$T/qio.out" 2>&1 || { cat "$T/qio.out" >&2; fail "qemu-io"; }
! grep -q -i 'fail\|error' "$T/qio.out" || { cat "$T/qio.out" >&2; fail "qemu-io"; }

# Two connections of the one server are coherent (multi-conn).
nbd_py "$NBD_URI" '
h2 = nbd.NBD()
h2.connect_uri(sys.argv[1])
for i in range(64):
    data = bytes([i]) * 4096
    h.pwrite(data, 100 * 2**20 + i * 8192)
    assert h2.pread(4096, 100 * 2**20 + i * 8192) == data, i
h2.flush()' || fail "two connections are not coherent"

# fio: random writes verified at QD32, and four connections at once.
run_fio() {
	local name=$1 out=$T/fio-$1.json

	shift
	timeout 300 fio --name="$name" --ioengine=nbd --uri="$NBD_URI" \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--output-format=json --output="$out" "$@" > "$T/fio.log" 2>&1 || {
		cat "$T/fio.log" "$out" >&2
		fail "fio $name"
	}
	[ "$(jget "$(cat "$out")" 'sum(j["error"] for j in d["jobs"])')" = 0 ] ||
		fail "fio $name reported errors"
	assert_alive "$SERVER_PID" "after fio $name"
}
run_fio rand4k --rw=randwrite --bs=4k --iodepth=32 --offset=128M --size=32M
run_fio multi --rw=randwrite --bs=64k --iodepth=16 --numjobs=4 \
	--offset=128M --size=8M --offset_increment=8M --verify_backlog=32

# Discard a whole object, zero another: both become holes in the map,
# the data around them stays.  Objects are 4 MiB.
nbd_py "$NBD_URI" '
h.trim(4 * 2**20, 8 * 2**20)
h.zero(4 * 2**20, 16 * 2**20)
assert h.pread(4 * 2**20, 16 * 2**20) == bytes(4 * 2**20)
h.pwrite(b"F" * 4096, 40 * 2**20, nbd.CMD_FLAG_FUA)
try:
    h.zero(4096, 24 * 2**20, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FAST_ZERO)
    sys.exit("a zero that must stay allocated was called fast")
except nbd.Error as e:
    assert e.errnum == errno.ENOTSUP, e
h.zero(4096, 24 * 2**20, nbd.CMD_FLAG_NO_HOLE)
assert h.pread(4096, 24 * 2**20) == bytes(4096)
h.flush()' || fail "trim/zero/FUA"
timeout 60 nbdinfo --map --json "$NBD_URI" > "$T/map.json" || fail "nbdinfo --map"
"$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
def state(off):
    for e in m:
        if e["offset"] <= off < e["offset"] + e["length"]:
            return e["type"]
    sys.exit("offset %d is not in the map %s" % (off, m))
MiB = 2**20
for off in (8 * MiB, 12 * MiB - 1, 16 * MiB, 20 * MiB - 1, 200 * MiB):
    assert state(off) & 1, "%d should be a hole: %s" % (off, m)
for off in (0, 4 * MiB, 12 * MiB, 20 * MiB, 24 * MiB, 40 * MiB):
    assert not state(off) & 1, "%d should be data: %s" % (off, m)
' "$T/map.json" || fail "allocation map after discard"
# Block status is a round trip to the OSDs for every object in its range,
# and must not hold up the requests behind it on the same connection:
# reads sent after many maps complete while maps are still running.  A
# server that maps on its connection thread answers every map first.
nbd_py "$NBD_URI" '
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(sys.argv[1])
size, MAPS, READS = h.get_size(), 32, 32
order, mapped = [], []
def done(what):
    def cb(err):
        order.append(what)
        return 1
    return cb
def on_map(ctx, off, entries, err):
    mapped.append(sum(entries[0::2]))
    return 0
for i in range(MAPS):
    h.aio_block_status(size, 0, on_map, done("map"))
bufs = [nbd.Buffer(4096) for i in range(READS)]
for i in range(READS):
    h.aio_pread(bufs[i], i * 2**20, done("read"))
while h.aio_in_flight() > 0:
    h.poll(-1)
assert order.count("map") == MAPS and order.count("read") == READS, order
assert len(mapped) == MAPS and min(mapped) > 0, mapped
last_read = max(i for i, what in enumerate(order) if what == "read")
maps_before = order[:last_read].count("map")
print("# maps done before the last read: %d of %d" % (maps_before, MAPS), file=sys.stderr)
assert maps_before < MAPS, "every map was answered before the reads sent after them"
' || fail "block status held up the reads behind it"
# FUA and the flush reached the OSDs: Ceph sees them without our close.
[ "$(lab_rbd export --no-progress "$IMG" - 2> /dev/null | head -c $((40 * MiB + 4096)) |
	tail -c 4096 | tr -d F | wc -c)" = 0 ] || fail "rbd export does not show the FUA write"
stop_server "$SERVER_PID"

# --- no keyring in connection_info (the stock Cinder driver): the key
# comes from /etc/ceph/ceph.client.cinder.keyring, as os-brick's does.
if [ -r /etc/ceph/ceph.client.cinder.keyring ]; then
	rbd_ci "$T/ci-etc.json" "$IMG"
	CONN_INFO=$T/ci-etc.json start_unix
	timeout 120 nbdcopy "$NBD_URI" "$T/out2" || fail "nbdcopy out, key from /etc/ceph"
	[ "$(sha "$T/out2")" = "$(rbd_sha "$IMG" $SIZE)" ] ||
		fail "the image read through the server differs from rbd export"
	cmp -s -n $((MiB - 512)) -i 512 "$T/in" "$T/out2" ||
		fail "data written by the first server is not there"
	stop_server "$SERVER_PID"
else
	note "no /etc/ceph/ceph.client.cinder.keyring: the /etc/ceph case is not tested"
fi

# --- read-only: access_mode "ro" from Cinder, or --read-only
before=$(rbd_sha "$IMG" $SIZE)
rbd_ci "$T/ci-ro.json" "$IMG" "{\"keyring\": $KEYRING_TEXT, \"access_mode\": \"ro\"}"
for how in access_mode --read-only; do
	if [ $how = access_mode ]; then
		CONN_INFO=$T/ci-ro.json start_unix
	else
		CONN_INFO=$T/ci-inline.json start_unix --read-only
	fi
	J=$(export_json "$NBD_URI") || fail "nbdinfo on a read-only export"
	[ "$(jget "$J" 'e["is_read_only"]')" = true ] || fail "$how: not read-only: $J"
	# Past libnbd's own checks, so that the server is the one refusing.
	nbd_py "$NBD_URI" '
h.set_strict_mode(0)
h.pread(4096, 0)
for op in (lambda: h.pwrite(b"x" * 4096, 0), lambda: h.zero(4096, 0), lambda: h.trim(4096, 0)):
    try:
        op()
        sys.exit("a write went through")
    except nbd.Error as e:
        assert e.errnum in (errno.EPERM, errno.EINVAL), e' || fail "$how: writes were not refused"
	stop_server "$SERVER_PID"
done
[ "$(rbd_sha "$IMG" $SIZE)" = "$before" ] || fail "a read-only export changed the image"

# --- a keyring file given on the command line wins over the inline one
if "$CINDER_BRICK" export --help 2>&1 | grep -q -- --rbd-keyring; then
	sed 's/key = .*/key = AQDCtwVr2YvnGxAAbnR\/XIUzUXGBY9+9KCKfCQ==/' "$CINDER_KEYRING" > "$T/bad.keyring"
	CONN_INFO=$T/ci-inline.json start_unix --rbd-keyring "$CINDER_KEYRING"
	stop_server "$SERVER_PID"
	CONN_INFO=$T/ci-inline.json try_server --nbd "unix:$T/never.sock" \
		--rbd-keyring "$T/bad.keyring" && fail "--rbd-keyring with a wrong key was accepted"
	grep -q "refused client.cinder.*$T/bad.keyring" "$SERVER_ERR" ||
		fail "--rbd-keyring: $(cat "$SERVER_ERR")"
	# The generic form of the same option.
	CONN_INFO=$T/ci-inline.json try_server --nbd "unix:$T/never.sock" \
		--backend-option "rbd.keyring=$T/bad.keyring" &&
		fail "--backend-option rbd.keyring= with a wrong key was accepted"
	grep -q "refused client.cinder.*$T/bad.keyring" "$SERVER_ERR" ||
		fail "--backend-option rbd.keyring=: $(cat "$SERVER_ERR")"
else
	note "the CLI has no --rbd-keyring yet: not tested"
fi

# --- how writes are acknowledged: from librbd's cache when the served
# thing ends with its server (an NBD socket), once the OSDs have them for
# /dev/nbdN, which outlives it: a reattach sends the kernel's FLUSH again to
# a new server, so writes lost with a cache would be lost without an error.
timeout 60 "$CINDER_BRICK" export --connection-info "$T/ci-inline.json" \
	--nbd "unix:$T/acks.sock" --foreground 2> "$T/acks.err" &
ACKS=$!
socket_up() { [ -S "$T/acks.sock" ]; }
wait_for 300 socket_up || fail "export --foreground: no socket: $(cat "$T/acks.err")"
kill -TERM "$ACKS"
wait "$ACKS" || fail "export --foreground: exit $? on SIGTERM: $(cat "$T/acks.err")"
grep -q "writes are acknowledged from librbd's cache, durable after FLUSH or FUA" "$T/acks.err" ||
	fail "an NBD socket's export does not say it acknowledges from the cache: $(cat "$T/acks.err")"
if [ ! -e /sys/module/nbd ]; then
	# Without the nbd module, the export fails after opening the volume.
	timeout 60 "$CINDER_BRICK" export --connection-info "$T/ci-inline.json" \
		--kernel-nbd --foreground 2> "$T/acks.err" && fail "export --kernel-nbd served without nbd"
	grep -q "writes are acknowledged once the OSDs have them (librbd's cache off; sent from the request's buffer)" "$T/acks.err" ||
		fail "--kernel-nbd: librbd's cache is not off, or writes are copied: $(cat "$T/acks.err")"
	echo "ok - writes acknowledged from librbd's cache over a socket, once on the OSDs for /dev/nbdN (no copy)"
else
	note "this kernel has nbd: the cache setting of --kernel-nbd is not checked here"
fi

# --- errors: each exits 1 before serving, and says what is wrong
rbd_ci "$T/ci-nokey.json" "$IMG" '{"auth_username": "cbnokey'$$'"}'
export_fails "$T/ci-nokey.json" "no key anywhere" \
	"/etc/ceph/ceph.client.cbnokey$$.keyring does not exist"
grep -q '"keyring" field in connection_info' "$T/fail.err" || fail "the ways to give a key are not named"
rbd_ci "$T/ci-badkey.json" "$IMG" \
	'{"keyring": "[client.cinder]\n\tkey = AQDCtwVr2YvnGxAAbnR/XIUzUXGBY9+9KCKfCQ==\n"}'
export_fails "$T/ci-badkey.json" "wrong key" "refused client.cinder"
rbd_ci "$T/ci-otherkey.json" "$IMG" '{"keyring": "[client.admin]\n\tkey = AQDCtwVr2YvnGxAAbnR/XIUzUXGBY9+9KCKfCQ==\n"}'
export_fails "$T/ci-otherkey.json" "keyring for another user" "no key for client.cinder"
rbd_ci "$T/ci-noimage.json" "volumes/cbtest-$$-missing" "{\"keyring\": $KEYRING_TEXT}"
export_fails "$T/ci-noimage.json" "missing image" "image volumes/cbtest-$$-missing does not exist"
rbd_ci "$T/ci-nopool.json" "cbtest-nopool/x" "{\"keyring\": $KEYRING_TEXT}"
export_fails "$T/ci-nopool.json" "missing pool" "pool cbtest-nopool does not exist"
rbd_ci "$T/ci-noname.json" "volumes" "{\"keyring\": $KEYRING_TEXT}"
export_fails "$T/ci-noname.json" "name without an image" 'not "pool/image"'
# Nothing listens on port 1: an error after client_mount_timeout, not a hang.
rbd_ci "$T/ci-nomon.json" "$IMG" "{\"keyring\": $KEYRING_TEXT, \"hosts\": [\"127.0.0.1\"], \"ports\": [\"1\"]}"
export_fails "$T/ci-nomon.json" "unreachable monitors" "no answer from the Ceph monitors 127.0.0.1:1"
exit 0
