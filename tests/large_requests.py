#!/usr/bin/env python3
"""READs and WRITEs over the 32 MiB advertised maximum, for
tests/test-large-requests.sh.

Clients that negotiate no block size (NBD_OPT_GO without an
NBD_INFO_BLOCK_SIZE request, or NBD_OPT_EXPORT_NAME) may send up to 64 MiB,
as the reference nbd-server and nbdkit accept; a client that negotiated
block sizes keeps to the 32 MiB advertised; past 64 MiB a READ gets EINVAL
and a WRITE a hang-up.  Data is checked end to end: what libnbd reads back
and what the served file holds.  Large reads run with small ones in flight,
whose replies must not cut into the large one's data.

usage: large_requests.py SOCKET DISK
"""
import errno
import os
import socket
import struct
import sys

import nbd

MiB = 1 << 20
# Not a multiple of the server's chunks, at an offset that is not either.
DATA_LEN = 50_000_000 + 3 * 512
MAX_PAYLOAD = 64 * MiB
ADVERTISED_MAX = 32 * MiB
TIMEOUT = 60

SOCK, DISK = None, None


class CaseFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CaseFailed(what)
    print("ok - %s" % what)


def file_bytes(offset, length):
    with open(DISK, "rb") as f:
        f.seek(offset)
        return f.read(length)


def client(request_block_size=False, handshake_flags=None):
    h = nbd.NBD()
    h.set_request_block_size(request_block_size)
    # Newer libnbd refuses requests over the advertised maximum itself.
    if hasattr(nbd, "STRICT_PAYLOAD"):
        h.set_strict_mode(h.get_strict_mode() & ~nbd.STRICT_PAYLOAD)
    if handshake_flags is not None:
        h.set_handshake_flags(handshake_flags)
    h.connect_unix(SOCK)
    return h


def expect_errno(what, errno_want, fn, *args):
    try:
        fn(*args)
    except nbd.Error as e:
        # The binding gives the errno's name.
        check(e.errno in (errno_want, errno.errorcode[errno_want]), what)
        return
    raise CaseFailed("%s: succeeded" % what)


def write_read_back(h, offset, label):
    data = os.urandom(DATA_LEN)
    h.pwrite(data, offset)
    check(h.pread(DATA_LEN, offset) == data, "%s: 50 MB written and read back" % label)
    h.flush()
    check(file_bytes(offset, DATA_LEN) == data, "%s: the file holds the 50 MB" % label)


def read_among_small(h, offset, label):
    """A 64 MiB read with 4 KiB reads in flight before and after it."""
    small = [(offset + k * MiB, nbd.Buffer(4096)) for k in range(32)]
    big = nbd.Buffer(MAX_PAYLOAD)
    for off, buf in small[:16]:
        h.aio_pread(buf, off)
    h.aio_pread(big, offset)
    for off, buf in small[16:]:
        h.aio_pread(buf, off)
    while h.aio_in_flight() > 0:
        h.poll(-1)
    check(big.to_bytearray() == file_bytes(offset, MAX_PAYLOAD),
          "%s: a 64 MiB read among 32 small ones returns the file's data" % label)
    check(all(buf.to_bytearray() == file_bytes(off, 4096) for off, buf in small),
          "%s: each small read beside it returns its own data" % label)


def case_go_without_block_size():
    h = client()
    check(h.get_protocol() == "newstyle-fixed" and h.get_structured_replies_negotiated(),
          "GO without a block size request, structured replies")
    check(h.get_block_size(nbd.SIZE_MAXIMUM) == ADVERTISED_MAX, "32 MiB still advertised")
    write_read_back(h, 3 * MiB + 5 * 512, "GO")
    read_among_small(h, 2 * MiB, "GO")
    h.shutdown()


def case_export_name():
    h = client(handshake_flags=0)
    check(h.get_protocol() == "newstyle" and not h.get_structured_replies_negotiated(),
          "NBD_OPT_EXPORT_NAME, simple replies")
    write_read_back(h, 90 * MiB + 512, "EXPORT_NAME")
    read_among_small(h, 89 * MiB, "EXPORT_NAME")
    h.shutdown()


def case_negotiated():
    h = client(request_block_size=True)
    offset = 3 * MiB
    before = file_bytes(offset, ADVERTISED_MAX + 512)
    expect_errno("negotiated: a READ of 32 MiB + 512 gets EINVAL", errno.EINVAL,
                 h.pread, ADVERTISED_MAX + 512, offset)
    expect_errno("negotiated: a WRITE of 32 MiB + 512 gets EINVAL", errno.EINVAL,
                 h.pwrite, b"\x55" * (ADVERTISED_MAX + 512), offset)
    check(file_bytes(offset, ADVERTISED_MAX + 512) == before,
          "negotiated: the refused WRITE changed nothing")
    check(h.pread(ADVERTISED_MAX, offset) == before[:ADVERTISED_MAX],
          "negotiated: a READ of 32 MiB is served")
    h.shutdown()


class Raw:
    """A bare NBD_OPT_GO client, for what libnbd will not send (> 64 MiB)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(SOCK)
        self.recv(18)                               # NBDMAGIC IHAVEOPT flags
        self.s.sendall(struct.pack(">I", 3))        # FIXED_NEWSTYLE | NO_ZEROES
        go = struct.pack(">IH", 0, 0)               # default export, no infos
        self.s.sendall(struct.pack(">QII", 0x49484156454F5054, 7, len(go)) + go)
        while True:
            _, _, rtype, rlen = struct.unpack(">QIII", self.recv(20))
            self.recv(rlen)
            if rtype == 1:                          # NBD_REP_ACK
                break
            if rtype != 3:                          # NBD_REP_INFO
                raise CaseFailed("raw: GO got reply type %x" % rtype)

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise CaseFailed("server hung up")
            buf += chunk
        return buf

    def request(self, cmd, cookie, offset, length):
        self.s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, cmd, cookie, offset, length))

    def reply(self, cookie):
        magic, err, rcookie = struct.unpack(">IIQ", self.recv(16))
        if magic != 0x67446698 or rcookie != cookie:
            raise CaseFailed("raw: bad reply %x for cookie %x" % (magic, rcookie))
        return err


def case_over_64_mib():
    c = Raw()
    c.request(0, 1, 0, MAX_PAYLOAD + 4096)
    check(c.reply(1) == errno.EINVAL, "a READ of 64 MiB + 4 KiB gets EINVAL")
    c.request(0, 2, 3 * MiB, 4096)
    check(c.reply(2) == 0 and c.recv(4096) == file_bytes(3 * MiB, 4096),
          "the connection goes on after it")
    c.request(1, 3, 0, MAX_PAYLOAD + 4096)
    try:
        c.s.sendall(b"\0" * 65536)
        hung_up = c.s.recv(16) == b""
    except (BrokenPipeError, ConnectionResetError):
        hung_up = True
    except socket.timeout:
        hung_up = False
    check(hung_up, "a WRITE of 64 MiB + 4 KiB gets a hang-up")
    c.s.close()
    h = client()
    check(h.pread(4096, 3 * MiB) == file_bytes(3 * MiB, 4096), "a new client is served")
    h.shutdown()


def main():
    global SOCK, DISK
    SOCK, DISK = sys.argv[1], sys.argv[2]
    failed = 0
    for case in (case_go_without_block_size, case_export_name, case_negotiated,
                 case_over_64_mib):
        try:
            case()
        except (CaseFailed, nbd.Error, OSError) as e:
            print("FAIL: %s: %s" % (case.__name__, e))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
