#!/usr/bin/python3
"""A fake Cinder on 127.0.0.1 that answers odd documents, for the
messages the client gives about them (tests/test-cinder-answers.sh).

GET / answers a good version document.  Every other request answers the
case named by the volume the client asked about: the last path segment
(GET /v3/p1/volumes/CASE), the query's value (GET
.../volumes/detail?name=CASE, .../attachments/detail?volume_id=CASE), or
the volume_uuid of an attachment create (POST /v3/p1/attachments).  As a
Keystone, POST .../auth/tokens answers the case named by the user name
(with an X-Subject-Token header unless the case says otherwise).  An
unknown case gets a 404 with Cinder's fault document.

usage: odd_cinder.py PORT_FILE   (writes the port once it listens)
"""

import http.server
import json
import os
import sys
import urllib.parse

BIG = (17 << 20)  # over the client's 16 MiB limit

VERSIONS = {"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.70",
                          "min_version": "3.0"}]}
VOL = "0f3c6a6e-61a4-4b8e-9a41-3c2d4b5e6f70"

CASES = {
    "good": {"volume": {"id": VOL, "status": "available"}},
    "array": [{"volume": {"id": VOL, "status": "available"}}],
    "empty": b"",
    "not-json": b"<html>a proxy's error page</html>",
    "no-volume": {"server": "fake"},
    "volume-string": {"volume": VOL},
    "no-id": {"volume": {"status": "available"}},
    "path-id": {"volume": {"id": "../../etc/passwd", "status": "available"}},
    "no-status": {"volume": {"id": VOL}},
    "status-number": {"volume": {"id": VOL, "status": 3}},
    "attachments-object": {"volume": {"id": VOL, "status": "in-use", "attachments": {}}},
    "attachment-no-id": {"volume": {"id": VOL, "status": "in-use",
                                    "attachments": [{"server_id": None}]}},
    "volumes-object": {"volumes": {"name": "volumes-object"}},
    "volumes-no-status": {"volumes": [{"name": "other"},
                                      {"name": "volumes-no-status", "id": VOL}]},
    "list-object": {"attachments": {}},
    "list-no-id": {"attachments": [{"volume_id": "list-no-id", "status": "attached"}]},
    "list-no-volume-id": {"attachments": [{"id": "a1"}]},
    "att-no-id": {"attachment": {"status": "reserved"}},
    "att-string": {"attachment": "a1"},
    "ks-array": [],
    "ks-unscoped": {"token": {"catalog": [], "expires_at": "2099-01-01T00:00:00.000000Z"}},
    "ks-catalog-string": {"token": {"project": {"id": "p1"}, "catalog": "none"}},
    "ks-project-id-path": {"token": {"project": {"id": "../p1"}, "catalog": []}},
    "ks-no-header": {"token": {"project": {"id": "p1"}, "catalog": []}},
}


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: without a Content-Length the body ends with the
    # connection, so the client cannot know the size beforehand.
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def case(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        for key in ("name", "volume_id"):
            if key in query:
                return query[key][0]
        if self.command == "POST":
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if "auth" in body:
                return body["auth"]["identity"]["password"]["user"]["name"]
            return body.get("attachment", {}).get("volume_uuid", "")
        return url.path.rstrip("/").rsplit("/", 1)[-1]

    def answer(self, status, body, length=True, token=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if token:
            self.send_header("X-Subject-Token", "fake-token")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def huge(self, length):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if length:
            self.send_header("Content-Length", str(BIG))
        self.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(BIG >> 20):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up, as it should

    def do_GET(self):
        if self.path == "/":
            return self.answer(200, json.dumps(VERSIONS).encode())
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        name = self.case()
        if name in ("huge", "huge-stream"):
            return self.huge(name == "huge")
        if name not in CASES:
            fault = {"itemNotFound": {"code": 404, "message": "no case %s" % name}}
            return self.answer(404, json.dumps(fault).encode())
        doc = CASES[name]
        token = self.path.endswith("/auth/tokens") and name != "ks-no-header"
        self.answer(200 if not token else 201,
                    doc if isinstance(doc, bytes) else json.dumps(doc).encode(),
                    token=token)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    # Renamed, so a reader never sees half a port number.
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
