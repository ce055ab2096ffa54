#!/usr/bin/env bash
# Sixteen clients at once (qemu-io and libnbd's nbdsh) write disjoint
# regions while two nbdcopy readers stream the whole export; afterwards
# every region holds what its writer wrote, the server is alive, and it
# has released the sockets and threads of every client.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd qemu-io nbdsh nbdcopy
require_pymod nbd
cb_init

MiB=$((1 << 20))
N=16
make_disk "$T/disk" $((N * MiB))
make_ci "$T/disk"
start_unix

nfds() { ls "/proc/$1/fd" | wc -l; }
nthreads() { ls "/proc/$1/task" | wc -l; }
# Nothing is connected yet: this is what the server holds when idle.
base_fds=$(nfds "$SERVER_PID")
base_threads=$(nthreads "$SERVER_PID")

pids=()
for ((i = 0; i < N; i++)); do
	byte=$((i + 1))
	off=$((i * MiB))
	if ((i % 2)); then
		# qemu-io: one 1 MiB write, then read it back with the pattern.
		timeout 60 qemu-io -f raw "$NBD_URI" \
			-c "write -P $byte $off 1M" -c "read -P $byte $off 1M" \
			> "$T/client$i.log" 2>&1 &
	else
		# libnbd: sixteen 64 KiB writes in flight at once, some FUA.
		timeout 60 nbdsh -u "$NBD_URI" -c "
import nbd
buf = bytes([$byte]) * 65536
cookies = [h.aio_pwrite(buf, $off + k * 65536,
                        flags=nbd.CMD_FLAG_FUA if k % 4 == 0 else 0)
           for k in range(16)]
while h.aio_in_flight() > 0:
    h.poll(-1)
for c in cookies:
    h.aio_command_completed(c)
assert h.pread(1 << 20, $off) == bytes([$byte]) * (1 << 20)
" > "$T/client$i.log" 2>&1 &
	fi
	pids+=($!)
done
# Readers racing the writers: they must see whole, valid replies.
for r in 1 2; do
	timeout 60 nbdcopy --connections=2 "$NBD_URI" null: > "$T/reader$r.log" 2>&1 &
	pids+=($!)
done

for ((i = 0; i < ${#pids[@]}; i++)); do
	if ! wait "${pids[i]}"; then
		cat "$T/client$i.log" "$T"/reader*.log >&2 2> /dev/null
		fail "client $i failed"
	fi
done
assert_alive "$SERVER_PID" "after $N concurrent clients"

# Every region, read back through a fresh connection and on the disk.
"$PY" -c 'import sys
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2])):
        f.write(bytes([i + 1]) * (1 << 20))' "$T/want" $N
timeout 60 nbdcopy "$NBD_URI" "$T/got" || fail "nbdcopy out"
cmp "$T/want" "$T/got" || fail "data read back differs from what the clients wrote"
cmp "$T/want" "$T/disk" || fail "backing file differs from what the clients wrote"

# Every client has gone, so the server must be back to its idle state.
idle() {
	[ "$(nfds "$SERVER_PID")" -le "$base_fds" ] &&
		[ "$(nthreads "$SERVER_PID")" -le "$base_threads" ]
}
wait_for 100 idle || fail "server leaks: $(nfds "$SERVER_PID") fds (idle: $base_fds), $(nthreads "$SERVER_PID") threads (idle: $base_threads)"

# Sixty quick connections one after another do not wear it down either.
for ((i = 0; i < 60; i++)); do
	[ "$(timeout 60 nbdinfo --size "$NBD_URI")" = $((N * MiB)) ] ||
		fail "nbdinfo --size failed on connection $i"
done
wait_for 100 idle || fail "server leaks after 60 connections: $(nfds "$SERVER_PID") fds"
stop_server "$SERVER_PID"
exit 0
