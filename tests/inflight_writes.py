#!/usr/bin/env python3
"""Writes left in flight, for the tests of a stop on storage that does not
answer (tests/test-stop-bound*.sh).

Sends COUNT writes of 4 KiB at once to the NBD export at URI, with FUA
where the export takes it: durable before they are answered, so no cache
answers them (an export without FUA, such as NFS, has no cache); few enough
to fit in the socket's buffer (a server whose storage is stuck may stop
reading).  Writes "in flight" to the file READY once all of them are sent
and none is answered, then waits for the answers.  Exit status: 0 when
every write succeeded; 1 when one failed or the connection was lost, as
the clients of a stop cut short see it; 3 when a write was answered
before READY, so the storage was not frozen; 2 on bad usage.

usage: inflight_writes.py URI COUNT READY
"""
import sys

import nbd

SIZE = 4096


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    uri, count, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    h = nbd.NBD()
    h.connect_uri(uri)
    buf = nbd.Buffer(SIZE)
    flags = nbd.CMD_FLAG_FUA if h.can_fua() else 0
    try:
        cookies = [h.aio_pwrite(buf, i * SIZE, flags=flags) for i in range(count)]
        # All sent once libnbd no longer waits to write.
        while h.aio_get_direction() & nbd.AIO_DIRECTION_WRITE:
            h.poll(-1)
        pending = [c for c in cookies if not h.aio_command_completed(c)]
        if len(pending) < count:
            print("a write was answered: the storage is not frozen", file=sys.stderr)
            return 3
        with open(ready, "w") as f:
            f.write("in flight\n")
        while pending:
            h.poll(-1)
            pending = [c for c in pending if not h.aio_command_completed(c)]
    except nbd.Error as e:
        print("writes failed: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
