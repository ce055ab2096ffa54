#!/usr/bin/env bash
# A backend driven by an event loop (nfs here; iscsi works the same way)
# runs the I/O of an NBD server's only client on that client's own thread,
# so no request costs a wake-up of the loop's thread: over thousands of
# requests that thread wakes only for its watch, a few times a second.
# And a client that stops reading its replies, which blocks its thread in
# a write, does not keep another client's I/O waiting: the loop's thread
# takes the backend back after a tick.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
. "$TESTS_SRCDIR/nfs-lib.sh" || exit 99
nfs_init
require_pymod nbd
cb_init
nfs_start

make_disk "$T/export/vol.img" 160M random
nfs_ci vol.img "" raw
start_unix

# The wake-ups of each of the server's threads over 4000 reads, one at a
# time, and over 2000 with 16 in flight.  The client's thread is the
# busiest; every other must stay far below one wake-up per request.
timeout 120 "$PY" - "$NBD_URI" "$SERVER_PID" <<'EOF' || fail "the loop's thread woke up for requests"
import glob
import sys

import nbd


def switches(pid):
    counts = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{task}/status") as f:
                counts[task] = sum(int(line.split()[1]) for line in f
                                   if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except FileNotFoundError:
            pass
    return counts


h = nbd.NBD()
h.connect_uri(sys.argv[1])
pid = int(sys.argv[2])
buf = nbd.Buffer(4096)
for depth, n in ((1, 4000), (16, 2000)):
    done = [0]

    def complete(err):
        done[0] += 1
        return 1

    before = switches(pid)
    issued = 0
    while done[0] < n:
        while issued < n and issued - done[0] < depth:
            h.aio_pread(buf, (issued * 7919 % 40000) * 4096, completion=complete)
            issued += 1
        h.poll(-1)
    after = switches(pid)
    deltas = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
    print(f"# depth {depth}: {n} reads, wake-ups of each thread: {deltas}")
    if len(deltas) > 1 and deltas[1] > n // 4:
        sys.exit(f"depth {depth}: a second thread woke {deltas[1]} times for {n} requests")
h.shutdown()
EOF
echo "ok - the only client's requests wake no thread but its own"

# Client A asks for 4 x 32 MiB and reads none of it: its thread blocks
# writing the replies.  Client B must still be served.
timeout 120 "$PY" - "$NBD_URI" <<'EOF' || fail "a client that does not read held up another"
import fcntl
import struct
import sys
import termios
import threading
import time

import nbd

a = nbd.NBD()
a.connect_uri(sys.argv[1])
for i in range(4):
    a.aio_pread(nbd.Buffer(32 << 20), i * (32 << 20))
fd = a.aio_get_fd()
deadline = time.monotonic() + 30
# Readiness: the server has filled A's socket and waits to write more.
while True:
    waiting = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
    if waiting >= 1 << 20:
        break
    if time.monotonic() > deadline:
        sys.exit(f"the server sent client A only {waiting} bytes")
    time.sleep(0.01)
result = {}


def client_b():
    b = nbd.NBD()
    b.connect_uri(sys.argv[1])
    t0 = time.monotonic()
    result["data"] = b.pread(65536, 140 << 20)
    result["secs"] = time.monotonic() - t0
    b.shutdown()


t = threading.Thread(target=client_b, daemon=True)
t.start()
t.join(20)
if t.is_alive():
    sys.exit("client B's read did not complete within 20 s while client A read nothing")
print(f"# client B's read took {result['secs']:.3f} s")
EOF
stop_server "$SERVER_PID"
echo "ok - a client that reads no replies does not hold up another client's I/O"
