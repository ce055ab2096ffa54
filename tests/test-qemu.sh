#!/usr/bin/env bash
# QEMU's NBD client against the export, over a Unix socket and over TCP:
# qemu-img info/convert/compare, and qemu-io writes, pattern reads,
# zeroing, discard and flush, each cross-checked on the backing file.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd qemu-img qemu-io qemu-nbd
cb_init

MiB=$((1 << 20))
SIZE=$((16 * MiB))

# qio ARGS...: qemu-io on the export; any failed command fails the test
# (qemu-io exits 1 when a command fails or a pattern does not match).
qio() {
	timeout 60 qemu-io -f raw -d unmap "$NBD_URI" "$@" > "$T/qio.out" 2>&1 || {
		cat "$T/qio.out" >&2
		fail "qemu-io $*"
	}
	! grep -q 'verification failed' "$T/qio.out" || fail "qemu-io $*: pattern mismatch"
}

# backing_is OFFSET LENGTH BYTE: the backing file holds BYTE there.
backing_is() {
	pattern_file "$T/want" "$2" "$3"
	cmp -s -i "$1:0" -n "$2" "$T/disk" "$T/want" ||
		fail "backing file at $1+$2 does not hold byte $3"
}

# is_hole OFFSET: lseek(SEEK_DATA) skips OFFSET in the backing file.
is_hole() {
	"$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
off = int(sys.argv[2])
try:
    sys.exit(0 if os.lseek(fd, off, os.SEEK_DATA) > off else 1)
except OSError:
    sys.exit(0)' "$T/disk" "$1"
}

qemu_tests() {
	local info

	# info: size and format through the NBD driver.
	info=$(timeout 60 qemu-img info --output=json "$NBD_URI") || fail "qemu-img info"
	[ "$(jget "$info" 'd["virtual-size"]')" = $SIZE ] || fail "qemu-img info: $info"
	[ "$(jget "$info" 'd["format"]')" = raw ] || fail "qemu-img info: $info"

	# convert in, compare both ways, convert out.
	make_disk "$T/src" $SIZE random
	timeout 60 qemu-img convert -n -W -m 8 -f raw -O raw "$T/src" "$NBD_URI" ||
		fail "qemu-img convert into the export"
	timeout 60 qemu-img compare -q -f raw -F raw "$T/src" "$NBD_URI" ||
		fail "qemu-img compare after convert"
	cmp -s "$T/src" "$T/disk" || fail "backing file differs after qemu-img convert"
	rm -f "$T/out"
	timeout 60 qemu-img convert -f raw -O raw "$NBD_URI" "$T/out" ||
		fail "qemu-img convert out of the export"
	cmp -s "$T/src" "$T/out" || fail "qemu-img convert out: data differs"

	# compare must notice a one-byte change: to a value the random source
	# does not already hold there (1 run in 256 wrote the same byte).
	qio -c "write -P $(( $(od -An -tu1 -j4096 -N1 "$T/src") ^ 0xff )) 4096 1"
	timeout 60 qemu-img compare -q -f raw -F raw "$T/src" "$NBD_URI"
	[ $? -eq 1 ] || fail "qemu-img compare missed a changed byte"

	# write with a pattern, read it back, and see it in the backing file.
	qio -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k'
	backing_is 0 65536 171
	# FUA write (-f), unaligned.
	qio -c 'write -f -P 0x11 65537 1000' -c 'read -P 0x11 65537 1000'
	backing_is 65537 1000 17
	# A 4 MiB write: several of qemu's requests in one command.
	qio -c 'write -P 0x22 1M 4M' -c 'read -P 0x22 1M 4M' -c 'read -P 0xab 0 64k'
	backing_is $MiB $((4 * MiB)) 34

	# zeroes: NO_HOLE (plain -z) and may-trim (-z -u).
	qio -c 'write -z 1M 1M' -c 'read -P 0 1M 1M' -c 'read -P 0x22 2M 3M'
	backing_is $MiB $MiB 0
	qio -c 'write -z -u 2M 1M' -c 'read -P 0 2M 1M' -c 'read -P 0x22 3M 2M'
	backing_is $((2 * MiB)) $MiB 0

	# discard: the range reads back as zeroes, the rest is untouched.
	qio -c 'discard 3M 1M' -c 'read -P 0 3M 1M' -c 'read -P 0x22 4M 1M'
	backing_is $((3 * MiB)) $MiB 0
	if is_hole $((3 * MiB)); then
		:
	elif [ "$FS_HOLES" = 1 ]; then
		fail "discard did not deallocate the backing file"
	fi
	backing_is $((4 * MiB)) $MiB 34

	# flush, alone and after writes; aio writes with a flush barrier.
	qio -c 'flush'
	qio -c 'aio_write -P 0x33 8M 64k' -c 'aio_write -P 0x34 9M 64k' -c 'aio_flush' \
		-c 'read -P 0x33 8M 64k' -c 'read -P 0x34 9M 64k'
	backing_is $((8 * MiB)) 65536 51
	backing_is $((9 * MiB)) 65536 52

	# reads past the end fail cleanly, and the server stays up.
	timeout 60 qemu-io -f raw "$NBD_URI" -c "read $SIZE 512" > /dev/null 2>&1 &&
		fail "qemu-io read past the end succeeded"
	qio -c 'read -P 0x33 8M 64k'

	assert_alive "$SERVER_PID" "after the qemu tests"
}

make_disk "$T/disk" $SIZE
make_ci "$T/disk"
FS_HOLES=$("$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"x" * 65536, 1 << 20)
print(int(os.lseek(fd, 0, os.SEEK_DATA) == 1 << 20))' "$T/disk")

[ "$FS_HOLES" = 1 ] || note "this filesystem does not report holes"

# --- Unix socket
start_unix
qemu_tests
timeout 60 qemu-nbd -L -k "$SOCK" > "$T/list" || fail "qemu-nbd -L"
grep -q "export: ''" "$T/list" || { cat "$T/list" >&2; fail "qemu-nbd -L does not list the export"; }
stop_server "$SERVER_PID"

# --- TCP
make_disk "$T/disk" $SIZE
start_tcp
[ "$NBD_URI" = "nbd://127.0.0.1:$PORT/" ] || fail "unexpected TCP URI '$NBD_URI'"
qemu_tests
timeout 60 qemu-nbd -L -b 127.0.0.1 -p "$PORT" > "$T/list" || fail "qemu-nbd -L over TCP"
grep -q "export: ''" "$T/list" || { cat "$T/list" >&2; fail "qemu-nbd -L (TCP) does not list the export"; }
stop_server "$SERVER_PID"
exit 0
