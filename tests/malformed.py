#!/usr/bin/python3
"""Hand-crafted NBD traffic against a running cinder-brick export.

Each case opens its own raw socket, sends bytes no real client would (bad
magic, oversized or malformed options, requests out of range or over the
maximum, half a header, a hang-up with requests in flight, garbage) and
checks the server's answer on the wire.  After every case a separate,
well-behaved client (our own, then nbdinfo or qemu-io) must still work on
the same server, and the server process must be alive.  Every socket has a
timeout, so a server that hangs fails the case instead of hanging the test.

usage: malformed.py --socket PATH --uri URI --pid PID [--export-name NAME]
                    [CASE...]
"""

import argparse
import os
import socket
import struct
import subprocess
import sys
import traceback

TIMEOUT = 10

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x0003E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
STRUCTURED_MAGIC = 0x668E33EF

FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2

OPT_EXPORT_NAME = 1
OPT_ABORT = 2
OPT_LIST = 3
OPT_STARTTLS = 5
OPT_INFO = 6
OPT_GO = 7
OPT_STRUCTURED_REPLY = 8
OPT_LIST_META_CONTEXT = 9
OPT_SET_META_CONTEXT = 10

REP_ACK = 1
REP_SERVER = 2
REP_INFO = 3
REP_META_CONTEXT = 4
REP_ERR_UNSUP = 1 << 31 | 1
REP_ERR_INVALID = 1 << 31 | 3
REP_ERR_UNKNOWN = 1 << 31 | 6

INFO_EXPORT = 0
INFO_BLOCK_SIZE = 3

CMD_READ = 0
CMD_WRITE = 1
CMD_DISC = 2
CMD_FLUSH = 3
CMD_TRIM = 4
CMD_CACHE = 5
CMD_WRITE_ZEROES = 6
CMD_BLOCK_STATUS = 7

FLAG_FUA = 1 << 0
FLAG_NO_HOLE = 1 << 1
FLAG_DF = 1 << 2
FLAG_REQ_ONE = 1 << 3

REPLY_FLAG_DONE = 1
REPLY_TYPE_NONE = 0
REPLY_TYPE_OFFSET_DATA = 1
REPLY_TYPE_BLOCK_STATUS = 5
REPLY_TYPE_ERROR = 1 << 15 | 1

EPERM, EINVAL, ENOSPC = 1, 22, 28

MiB = 1 << 20
MAX_OPTION = 64 << 10
BLOCK_MAX = 32 * MiB
MAX_PAYLOAD = 64 * MiB

ARGS = None


class CaseFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CaseFailed(what)


class Client:
    """One raw connection; every read is bounded by TIMEOUT."""

    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(ARGS.socket)
        self.size = None
        self.eflags = None
        self.structured = False

    def close(self):
        self.s.close()

    def send(self, data, may_fail=False):
        """may_fail: the server is allowed to hang up before reading it all."""
        try:
            self.s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            if not may_fail:
                raise CaseFailed("server hung up while we were sending")

    def send_until_full(self, data):
        """Sends what the socket takes without blocking; returns the count."""
        self.s.setblocking(False)
        sent = 0
        try:
            while sent < len(data):
                sent += self.s.send(data[sent:sent + 65536])
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass
        self.s.settimeout(TIMEOUT)
        return sent

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.s.recv(n - len(buf))
            except socket.timeout:
                raise CaseFailed("server sent nothing for %ds (hung?)" % TIMEOUT)
            if not chunk:
                raise CaseFailed("server hung up after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def expect_hangup(self, what):
        """The server must close this connection, and soon."""
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return
        except socket.timeout:
            raise CaseFailed("%s: server kept the connection open" % what)
        except (ConnectionResetError, BrokenPipeError):
            return

    def greeting(self, cflags=FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES):
        magic, ihaveopt, hflags = struct.unpack(">QQH", self.recv(18))
        check(magic == NBDMAGIC, "bad NBDMAGIC %x" % magic)
        check(ihaveopt == IHAVEOPT, "bad IHAVEOPT %x" % ihaveopt)
        check(hflags & FLAG_FIXED_NEWSTYLE, "not fixed newstyle")
        check(hflags & FLAG_NO_ZEROES, "NO_ZEROES not offered")
        if cflags is not None:
            self.send(struct.pack(">I", cflags))

    def option(self, opt, data=b""):
        self.send(struct.pack(">QII", IHAVEOPT, opt, len(data)) + data)

    def reply(self, opt):
        magic, ropt, rtype, rlen = struct.unpack(">QIII", self.recv(20))
        check(magic == REP_MAGIC, "bad option reply magic %x" % magic)
        check(ropt == opt, "reply is for option %d, not %d" % (ropt, opt))
        check(rlen <= MAX_OPTION, "option reply of %d bytes" % rlen)
        return rtype, self.recv(rlen)

    def expect_reply(self, opt, rtype, what):
        got, data = self.reply(opt)
        check(got == rtype, "%s: reply type %x, expected %x (%r)" % (what, got, rtype, data))
        return data

    def structured_reply(self):
        self.option(OPT_STRUCTURED_REPLY)
        self.expect_reply(OPT_STRUCTURED_REPLY, REP_ACK, "STRUCTURED_REPLY")
        self.structured = True

    def set_meta(self, name=b"", queries=(b"base:allocation",)):
        data = struct.pack(">I", len(name)) + name + struct.pack(">I", len(queries))
        for q in queries:
            data += struct.pack(">I", len(q)) + q
        self.option(OPT_SET_META_CONTEXT, data)
        ids = []
        while True:
            rtype, rdata = self.reply(OPT_SET_META_CONTEXT)
            if rtype == REP_ACK:
                return ids
            check(rtype == REP_META_CONTEXT, "SET_META_CONTEXT reply %x" % rtype)
            ids.append(struct.unpack(">I", rdata[:4])[0])

    @staticmethod
    def go_payload(name=b"", infos=()):
        return (struct.pack(">I", len(name)) + name + struct.pack(">H", len(infos)) +
                b"".join(struct.pack(">H", i) for i in infos))

    def go(self, name=None, opt=OPT_GO):
        """NBD_OPT_GO (or INFO); returns the export size."""
        if name is None:
            name = ARGS.export_name.encode()
        self.option(opt, self.go_payload(name))
        while True:
            rtype, data = self.reply(opt)
            if rtype == REP_ACK:
                break
            check(rtype == REP_INFO, "GO: reply type %x (%r)" % (rtype, data))
            if struct.unpack(">H", data[:2])[0] == INFO_EXPORT:
                self.size, self.eflags = struct.unpack(">QH", data[2:12])
        check(self.size is not None, "GO sent no NBD_INFO_EXPORT")
        return self.size

    def connect(self, structured=False, meta=False):
        self.greeting()
        if structured:
            self.structured_reply()
        if meta:
            check(self.set_meta() == [1], "base:allocation not selected")
        self.go()
        return self

    def request(self, cmd, offset=0, length=0, flags=0, cookie=None, payload=b""):
        if cookie is None:
            cookie = 0x1000 + cmd
        self.send(struct.pack(">IHHQQI", REQUEST_MAGIC, flags, cmd, cookie,
                              offset, length) + payload)
        return cookie

    def simple_reply(self, cookie, datalen=0):
        magic, err, rcookie = struct.unpack(">IIQ", self.recv(16))
        check(magic == SIMPLE_MAGIC, "bad simple reply magic %x" % magic)
        check(rcookie == cookie, "reply cookie %x, expected %x" % (rcookie, cookie))
        data = self.recv(datalen) if err == 0 and datalen else b""
        return err, data

    def chunk(self):
        magic, flags, ctype, cookie, length = struct.unpack(">IHHQI", self.recv(20))
        check(magic in (STRUCTURED_MAGIC, SIMPLE_MAGIC),
              "bad reply magic %x" % magic)
        if magic == SIMPLE_MAGIC:
            # flags/ctype hold the error; cookie straddles.
            raise CaseFailed("simple reply where a structured one was due")
        return flags, ctype, cookie, self.recv(length)

    def read_reply(self, cookie, length):
        """Error code and data of a READ, in either reply style."""
        if not self.structured:
            return self.simple_reply(cookie, length)
        data = b""
        while True:
            flags, ctype, rcookie, payload = self.chunk()
            check(rcookie == cookie, "chunk cookie %x, expected %x" % (rcookie, cookie))
            if ctype == REPLY_TYPE_ERROR:
                check(flags & REPLY_FLAG_DONE, "error chunk without DONE")
                return struct.unpack(">I", payload[:4])[0], b""
            if ctype == REPLY_TYPE_OFFSET_DATA:
                check(len(payload) > 8, "empty OFFSET_DATA chunk")
                data += payload[8:]
            else:
                check(ctype == REPLY_TYPE_NONE, "chunk type %d for a read" % ctype)
            if flags & REPLY_FLAG_DONE:
                return 0, data

    def read(self, offset, length, flags=0, cookie=None):
        cookie = self.request(CMD_READ, offset, length, flags, cookie)
        return self.read_reply(cookie, length)

    def expect_error(self, err, what, cmd, offset, length, flags=0, payload=b""):
        cookie = self.request(cmd, offset, length, flags, payload=payload)
        if cmd == CMD_READ:
            got, _ = self.read_reply(cookie, length)
        elif cmd == CMD_BLOCK_STATUS:
            fl, ctype, rcookie, data = self.chunk()
            check(rcookie == cookie, "%s: wrong cookie" % what)
            check(ctype == REPLY_TYPE_ERROR, "%s: chunk type %d, not an error" % (what, ctype))
            got = struct.unpack(">I", data[:4])[0]
        else:
            got, _ = self.simple_reply(cookie)
        errs = err if isinstance(err, tuple) else (err,)
        check(got in errs, "%s: error %d, expected %s" % (what, got, errs))

    def still_works(self, what):
        """A read and a write on this very connection."""
        cookie = self.request(CMD_WRITE, 0, 512, payload=b"\xc3" * 512, cookie=0xabc)
        err, _ = self.simple_reply(cookie)
        check(err == 0, "%s: write afterwards failed (%d)" % (what, err))
        err, data = self.read(0, 512)
        check(err == 0 and data == b"\xc3" * 512, "%s: read afterwards failed" % what)

    def disconnect(self):
        self.request(CMD_DISC)
        self.expect_hangup("NBD_CMD_DISC")
        self.close()


# ---------------------------------------------------------------------------
# Handshake cases


def case_unknown_client_flags():
    c = Client()
    c.greeting(cflags=0x80000000 | FLAG_FIXED_NEWSTYLE)
    c.expect_hangup("unknown client flags")


def case_close_before_flags():
    c = Client()
    c.greeting(cflags=None)
    c.close()


def case_half_client_flags():
    c = Client()
    c.greeting(cflags=None)
    c.send(b"\x00\x00")
    c.close()


def case_bad_option_magic():
    c = Client()
    c.greeting()
    c.send(struct.pack(">QII", 0x1122334455667788, OPT_GO, 6) + c.go_payload())
    c.expect_hangup("bad option magic")


def case_oversized_option():
    for length in (MAX_OPTION + 1, 0xFFFFFFFF):
        c = Client()
        c.greeting()
        c.send(struct.pack(">QII", IHAVEOPT, OPT_GO, length))
        c.send(b"\0" * 4096, may_fail=True)
        c.expect_hangup("option of %d bytes" % length)
        c.close()


def case_option_at_limit():
    c = Client()
    c.greeting()
    c.option(0x7FFF, os.urandom(MAX_OPTION))
    c.expect_reply(0x7FFF, REP_ERR_UNSUP, "64 KiB unknown option")
    c.go()
    c.still_works("after a 64 KiB option")
    c.disconnect()


def case_close_mid_option():
    c = Client()
    c.greeting()
    c.send(struct.pack(">QII", IHAVEOPT, OPT_GO, 100) + b"\0\0\0")
    c.close()


def case_unknown_option():
    c = Client()
    c.greeting()
    # 4 is the withdrawn PEEK_EXPORT; STARTTLS is known but unsupported.
    for opt in (0, 4, 42, 0xDEADBEEF, OPT_STARTTLS):
        c.option(opt, b"hello")
        data = c.expect_reply(opt, REP_ERR_UNSUP, "option %d" % opt)
        check(len(data) <= 4096, "oversized error message")
    # The session goes on as if nothing happened.
    c.structured_reply()
    c.go()
    c.still_works("after unknown options")
    c.disconnect()


def case_malformed_go():
    c = Client()
    c.greeting()
    name = ARGS.export_name.encode()
    bad = [
        b"",                                           # nothing at all
        b"\0\0\0",                                     # shorter than a name length
        struct.pack(">IH", 100, 0),                    # name runs past the end
        struct.pack(">I", 0xFFFFFFFF) + b"\0" * 10,    # huge name length
        struct.pack(">I", len(name)) + name,           # no info count
        struct.pack(">I", len(name)) + name + struct.pack(">HH", 2, 0),  # 1 of 2 infos
        c.go_payload(name) + b"junk",                  # trailing bytes
    ]
    for opt in (OPT_GO, OPT_INFO):
        for payload in bad:
            c.option(opt, payload)
            c.expect_reply(opt, REP_ERR_INVALID, "malformed %d: %r" % (opt, payload))
    c.go()
    c.still_works("after malformed GO")
    c.disconnect()


def case_info_then_go():
    c = Client()
    c.greeting()
    size = c.go(opt=OPT_INFO)
    check(size > 0, "INFO size")
    c.option(OPT_GO, c.go_payload(ARGS.export_name.encode(), infos=(INFO_BLOCK_SIZE, 1, 2, 999)))
    seen = set()
    while True:
        rtype, data = c.reply(OPT_GO)
        if rtype == REP_ACK:
            break
        check(rtype == REP_INFO, "GO reply %x" % rtype)
        seen.add(struct.unpack(">H", data[:2])[0])
    check(INFO_EXPORT in seen and INFO_BLOCK_SIZE in seen, "GO infos %s" % seen)
    c.still_works("after INFO then GO")
    c.disconnect()


def case_bad_option_payloads():
    c = Client()
    c.greeting()
    c.option(OPT_LIST, b"x")
    c.expect_reply(OPT_LIST, REP_ERR_INVALID, "LIST with data")
    c.option(OPT_STRUCTURED_REPLY, b"x")
    c.expect_reply(OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "STRUCTURED_REPLY with data")
    for opt in (OPT_SET_META_CONTEXT, OPT_LIST_META_CONTEXT):
        c.option(opt, struct.pack(">II", 0, 0))
        c.expect_reply(opt, REP_ERR_INVALID, "meta context before structured replies")
    c.structured_reply()
    for payload in (b"", b"\0\0\0\0", struct.pack(">II", 0, 1),
                    struct.pack(">III", 0, 1, 100) + b"base:",
                    struct.pack(">II", 0, 0) + b"extra"):
        c.option(OPT_SET_META_CONTEXT, payload)
        c.expect_reply(OPT_SET_META_CONTEXT, REP_ERR_INVALID, "meta %r" % payload)
    # LIST still answers properly.
    c.option(OPT_LIST)
    data = c.expect_reply(OPT_LIST, REP_SERVER, "LIST")
    check(struct.unpack(">I", data[:4])[0] == len(data) - 4, "LIST name length")
    c.expect_reply(OPT_LIST, REP_ACK, "LIST end")
    c.go()
    c.still_works("after bad option payloads")
    c.disconnect()


def case_abort():
    c = Client()
    c.greeting()
    c.option(OPT_ABORT)
    c.expect_reply(OPT_ABORT, REP_ACK, "ABORT")
    c.expect_hangup("after ABORT")


def case_export_name_option():
    for cflags in (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, FLAG_FIXED_NEWSTYLE):
        c = Client()
        c.greeting(cflags=cflags)
        c.option(OPT_EXPORT_NAME, ARGS.export_name.encode())
        size, eflags = struct.unpack(">QH", c.recv(10))
        check(size > 0 and eflags & 1, "EXPORT_NAME reply %d %x" % (size, eflags))
        if not cflags & FLAG_NO_ZEROES:
            check(c.recv(124) == bytes(124), "124 reserved bytes not zero")
        c.still_works("after EXPORT_NAME")
        c.disconnect()


# ---------------------------------------------------------------------------
# Transmission cases


def case_bad_request_magic():
    good = Client().connect()
    c = Client().connect()
    c.send(struct.pack(">IHHQQI", 0x25609514, 0, CMD_READ, 1, 0, 512))
    c.expect_hangup("bad request magic")
    # Only the offender was dropped.
    good.still_works("other client after a bad magic")
    good.disconnect()


def case_garbage_after_handshake():
    c = Client().connect(structured=True)
    junk = bytearray(os.urandom(8192))
    junk[0:4] = b"\xde\xad\xbe\xef"     # never the request magic
    c.send(bytes(junk), may_fail=True)
    c.expect_hangup("garbage after the handshake")


def case_garbage_after_requests():
    c = Client().connect()
    cookie = c.request(CMD_READ, 0, 4096)
    c.send(b"\xff" * 100)
    err, data = c.simple_reply(cookie, 4096)
    check(err == 0 and len(data) == 4096, "read before the garbage")
    c.expect_hangup("garbage after a request")


def case_unknown_command():
    for structured in (False, True):
        c = Client().connect(structured=structured)
        for cmd in (8, 9, 99, 0xFFFF):
            c.expect_error(EINVAL, "command %d" % cmd, cmd, 0, 512)
        c.still_works("after unknown commands")
        c.disconnect()


def case_bad_flags():
    c = Client().connect()
    c.expect_error(EINVAL, "READ with FUA", CMD_READ, 0, 512, FLAG_FUA)
    c.expect_error(EINVAL, "READ with DF, no structured replies", CMD_READ, 0, 512, FLAG_DF)
    c.expect_error(EINVAL, "READ with unknown flag", CMD_READ, 0, 512, 1 << 15)
    c.expect_error(EINVAL, "WRITE with NO_HOLE", CMD_WRITE, 0, 512, FLAG_NO_HOLE,
                   payload=b"x" * 512)
    c.expect_error(EINVAL, "TRIM with REQ_ONE", CMD_TRIM, 0, 512, FLAG_REQ_ONE)
    c.expect_error(EINVAL, "FLUSH with an offset", CMD_FLUSH, 512, 0)
    c.expect_error(EINVAL, "FLUSH with a length", CMD_FLUSH, 0, 512)
    c.expect_error(EINVAL, "FLUSH with FUA", CMD_FLUSH, 0, 0, FLAG_FUA)
    c.expect_error(EINVAL, "CACHE with FUA", CMD_CACHE, 0, 512, FLAG_FUA)
    c.still_works("after bad flags")
    c.disconnect()
    # BLOCK_STATUS needs a meta context, whatever else was negotiated.
    c = Client().connect(structured=True)
    c.expect_error(EINVAL, "BLOCK_STATUS without a context", CMD_BLOCK_STATUS, 0, 512)
    c.disconnect()
    c = Client().connect(structured=True, meta=True)
    c.expect_error(EINVAL, "BLOCK_STATUS of length 0", CMD_BLOCK_STATUS, 0, 0)
    c.expect_error(EINVAL, "BLOCK_STATUS with FUA", CMD_BLOCK_STATUS, 0, 512, FLAG_FUA)
    c.disconnect()


def case_read_too_big():
    for structured in (False, True):
        c = Client().connect(structured=structured)
        for length in (64 * MiB, 64 * MiB + 1, BLOCK_MAX + 1, 0xFFFFFFFF):
            c.expect_error(EINVAL, "READ of %d bytes" % length, CMD_READ, 0, length)
        c.still_works("after oversized reads")
        c.disconnect()


def case_write_too_big():
    c = Client().connect()
    c.request(CMD_WRITE, 0, MAX_PAYLOAD + 1)
    # Past the 64 MiB served to clients that negotiated no block size, the
    # server hangs up rather than receive a payload it will not use.
    c.send(b"\0" * 65536, may_fail=True)
    c.expect_hangup("WRITE of 64 MiB + 1")


def case_write_max_out_of_range():
    # A maximal write past the end: refused, and its payload consumed so
    # that the next request is read correctly.
    c = Client().connect()
    c.expect_error(ENOSPC, "32 MiB WRITE past the end", CMD_WRITE, c.size, BLOCK_MAX,
                   payload=b"\x99" * BLOCK_MAX)
    c.still_works("after a refused 32 MiB write")
    c.disconnect()


def case_out_of_range():
    for structured in (False, True):
        c = Client().connect(structured=structured)
        size = c.size
        c.expect_error(EINVAL, "READ at the end", CMD_READ, size, 512)
        c.expect_error(EINVAL, "READ across the end", CMD_READ, size - 256, 512)
        c.expect_error(EINVAL, "READ far away", CMD_READ, 1 << 62, 512)
        c.expect_error(ENOSPC, "WRITE at the end", CMD_WRITE, size, 512, payload=b"y" * 512)
        c.expect_error(ENOSPC, "WRITE across the end", CMD_WRITE, size - 1, 2, payload=b"yy")
        c.expect_error((EINVAL, ENOSPC), "TRIM across the end", CMD_TRIM, size - 512, 1024)
        c.expect_error((EINVAL, ENOSPC), "WRITE_ZEROES across the end",
                       CMD_WRITE_ZEROES, size - 512, 1024)
        c.expect_error(EINVAL, "CACHE across the end", CMD_CACHE, size - 512, 1024)
        # Reads right up to the end are fine.
        err, data = c.read(size - 512, 512)
        check(err == 0 and len(data) == 512, "read of the last 512 bytes")
        c.still_works("after out-of-range requests")
        c.disconnect()


def case_offset_overflow():
    top = (1 << 64) - 512
    for structured in (False, True):
        c = Client().connect(structured=structured, meta=structured)
        c.expect_error(EINVAL, "READ wrapping 2^64", CMD_READ, top, 1024)
        c.expect_error(ENOSPC, "WRITE wrapping 2^64", CMD_WRITE, top, 1024,
                       payload=b"z" * 1024)
        c.expect_error((EINVAL, ENOSPC), "TRIM wrapping 2^64", CMD_TRIM, top, 1024)
        c.expect_error((EINVAL, ENOSPC), "WRITE_ZEROES wrapping 2^64",
                       CMD_WRITE_ZEROES, top, 1024)
        c.expect_error(EINVAL, "CACHE wrapping 2^64", CMD_CACHE, top, 1024)
        c.expect_error(EINVAL, "READ at 2^64-1", CMD_READ, (1 << 64) - 1, 1)
        if structured:
            c.expect_error(EINVAL, "BLOCK_STATUS wrapping 2^64", CMD_BLOCK_STATUS, top, 1024)
        c.still_works("after wrapping offsets")
        c.disconnect()


def case_short_header():
    c = Client().connect()
    c.send(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, 1, 0, 512)[:14])
    c.close()


def case_short_payload():
    c = Client().connect()
    c.request(CMD_WRITE, 0, 65536)
    c.send(b"\x01" * 1000)
    c.close()


def case_inflight_hangup():
    # Many requests, then gone without reading a single reply: the
    # server's writes fail, and it must just clean up.
    for n in range(4):
        c = Client().connect(structured=bool(n % 2))
        reqs = b""
        for i in range(200):
            if i % 5 == 0:
                reqs += struct.pack(">IHHQQI", REQUEST_MAGIC, FLAG_FUA if i % 2 else 0,
                                    CMD_WRITE, i, (i % 16) * 65536, 65536) + b"\x5a" * 65536
            else:
                reqs += struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, i,
                                    (i % 16) * MiB % c.size, MiB)
        # Not sendall: with nobody reading replies, the server stops
        # reading requests once the socket is full, and that is fine.
        check(c.send_until_full(reqs) > 0, "could not send anything")
        if n >= 2:
            # Reset rather than a clean FIN.
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


def case_half_close_gets_replies():
    # The client stops sending (shutdown SHUT_WR) with requests in flight:
    # every one of them is still answered before the server hangs up.
    c = Client().connect()
    cookies = [0x5000 + i for i in range(64)]
    c.send(b"".join(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, cookie,
                                (i % 16) * 4096, 4096) for i, cookie in enumerate(cookies)))
    c.s.shutdown(socket.SHUT_WR)
    got = set()
    for _ in cookies:
        magic, err, cookie = struct.unpack(">IIQ", c.recv(16))
        check(magic == SIMPLE_MAGIC and err == 0, "reply %x %d" % (magic, err))
        c.recv(4096)
        got.add(cookie)
    check(got == set(cookies), "replies for %d of %d requests" % (len(got), len(cookies)))
    c.expect_hangup("after the last reply to a half-closed client")


def case_disc_with_inflight():
    c = Client().connect(structured=True)
    cookies = [0x6000 + i for i in range(32)]
    c.send(b"".join(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, cookie, i * 65536, 65536)
                    for i, cookie in enumerate(cookies)) +
           struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_DISC, 1, 0, 0))
    got = set()
    for _ in cookies:
        flags, ctype, cookie, payload = c.chunk()
        check(ctype == REPLY_TYPE_OFFSET_DATA and len(payload) == 8 + 65536,
              "reply chunk type %d" % ctype)
        got.add(cookie)
    check(got == set(cookies), "not every request before DISC was answered")
    c.expect_hangup("after NBD_CMD_DISC")


def case_pipelined_flood():
    # More requests than the server has slots, in one send: each is
    # answered once, with its own cookie, and the data is right.
    c = Client().connect()
    c.send(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_WRITE, 7, 0, 4096) + b"\x3c" * 4096)
    err, _ = c.simple_reply(7)
    check(err == 0, "setup write")
    n = 1000
    c.send(b"".join(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ,
                                0xFEDCBA9800000000 + i, i % 8, 512) for i in range(n)))
    seen = set()
    for _ in range(n):
        magic, err, cookie = struct.unpack(">IIQ", c.recv(16))
        check(magic == SIMPLE_MAGIC and err == 0, "flood reply %x %d" % (magic, err))
        check(c.recv(512) == b"\x3c" * 512, "flood data")
        check(cookie not in seen, "cookie %x answered twice" % cookie)
        seen.add(cookie)
    check(len(seen) == n, "flood: %d replies" % len(seen))
    c.disconnect()


def case_reply_backpressure():
    # 128 MiB of read replies requested before reading any: the server
    # must stall on the full socket, not lose or corrupt anything.
    c = Client().connect(structured=True)
    n = 128
    # One send: a few KiB of requests, so that only the replies can block.
    c.send(b"".join(struct.pack(">IHHQQI", REQUEST_MAGIC, 0, CMD_READ, i,
                                (i % 8) * MiB, MiB) for i in range(n)))
    got = 0
    for _ in range(n):
        flags, ctype, cookie, payload = c.chunk()
        check(ctype == REPLY_TYPE_OFFSET_DATA, "chunk type %d" % ctype)
        off = struct.unpack(">Q", payload[:8])[0]
        check(off == (cookie % 8) * MiB and len(payload) == 8 + MiB, "chunk for %d" % cookie)
        got += 1
    check(got == n, "backpressure: %d replies" % got)
    c.disconnect()


def case_zero_length():
    for structured in (False, True):
        c = Client().connect(structured=structured)
        err, data = c.read(0, 0)
        check(err == 0 and data == b"", "zero-length read")
        for cmd in (CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES, CMD_CACHE, CMD_FLUSH):
            cookie = c.request(cmd, 0, 0)
            err, _ = c.simple_reply(cookie)
            check(err == 0, "zero-length command %d: %d" % (cmd, err))
        c.still_works("after zero-length requests")
        c.disconnect()


GENERIC = [
    case_unknown_client_flags, case_close_before_flags, case_half_client_flags,
    case_bad_option_magic, case_oversized_option, case_option_at_limit,
    case_close_mid_option, case_unknown_option, case_malformed_go, case_info_then_go,
    case_bad_option_payloads, case_abort, case_export_name_option,
    case_bad_request_magic, case_garbage_after_handshake, case_garbage_after_requests,
    case_unknown_command, case_bad_flags, case_read_too_big, case_write_too_big,
    case_write_max_out_of_range, case_out_of_range, case_offset_overflow,
    case_short_header, case_short_payload, case_inflight_hangup,
    case_half_close_gets_replies, case_disc_with_inflight, case_pipelined_flood,
    case_reply_backpressure, case_zero_length,
]


# ---------------------------------------------------------------------------
# Export-name cases, for a server started with --export-name


def case_export_name_wrong():
    c = Client()
    c.greeting()
    c.option(OPT_EXPORT_NAME, b"not-" + ARGS.export_name.encode())
    # The protocol cannot say why: the server hangs up.
    c.expect_hangup("EXPORT_NAME with the wrong name")


def case_go_wrong_name():
    c = Client()
    c.greeting()
    for opt in (OPT_INFO, OPT_GO):
        for name in (b"", b"not-" + ARGS.export_name.encode(), ARGS.export_name.encode()[:-1]):
            c.option(opt, c.go_payload(name))
            c.expect_reply(opt, REP_ERR_UNKNOWN, "%d with name %r" % (opt, name))
    c.go()
    c.still_works("after wrong names")
    c.disconnect()


NAMED = [case_export_name_option, case_export_name_wrong, case_go_wrong_name]
ALL = {f.__name__[len("case_"):]: f for f in GENERIC + NAMED}


# ---------------------------------------------------------------------------


def server_alive():
    try:
        os.kill(ARGS.pid, 0)
        with open("/proc/%d/stat" % ARGS.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def well_behaved(i):
    """A proper client on a fresh connection: ours, then a real one."""
    c = Client().connect()
    c.still_works("well-behaved client")
    c.disconnect()
    if i % 2 == 0:
        cmd = ["nbdinfo", "--size", ARGS.uri]
    else:
        cmd = ["qemu-io", "-f", "raw", ARGS.uri, "-c", "read -P 0xc3 0 512"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, check=False)
    check(r.returncode == 0, "%s failed: %s" % (cmd[0], r.stdout.decode(errors="replace")))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--uri", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--export-name", default="")
    p.add_argument("cases", nargs="*")
    ARGS = p.parse_args()

    cases = [ALL[n] for n in ARGS.cases] if ARGS.cases else GENERIC
    failed = 0
    for i, case in enumerate(cases, 1):
        name = case.__name__[len("case_"):]
        try:
            case()
            check(server_alive(), "server died")
            well_behaved(i)
            check(server_alive(), "server died")
            print("ok %d - %s" % (i, name))
        except Exception as e:  # a failed case must not stop the others
            failed += 1
            print("not ok %d - %s: %s" % (i, name, e))
            if not isinstance(e, CaseFailed):
                traceback.print_exc(file=sys.stdout)
            if not server_alive():
                print("Bail out! the server is dead")
                return 1
        sys.stdout.flush()
    print("malformed: %d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
