#!/usr/bin/python3
"""A stand-in for a Cinder endpoint whose answers a test chooses.

It speaks just enough of the v3 API for local-attach and local-detach with
auth type noauth (no Keystone): version discovery, one volume, the
attachments API.  The connection_info it hands out comes from a file the
test writes (and may rewrite between commands), as the attachments API
sends it: flat.  Every request is appended to a log, "METHOD PATH", so a
test can assert what the client did (a rollback, say).

    fake_cinder.py PORTFILE LOGFILE CONNINFOFILE [VOLUME_ID]

Listens on 127.0.0.1, on a free port it writes to PORTFILE once ready.
The volume is VOLUME_ID (1d6f5a4e-3f1c-4a36-9f6e-000000000001 unless given:
tests that run at once on one host each give their own, since the
attachment state here is per volume), named "fakevol", of
1 GiB, or of the GiB CONNINFOFILE.size holds when it exists (an extend).
The keys CONNINFOFILE.put-omits lists (one a line), when it exists, are
left out of the connection_info in the answer to the attachment update,
as some Cinder drivers leave out "format" there.
"""
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT = "p1"
VOLUME = sys.argv[4] if len(sys.argv) > 4 else "1d6f5a4e-3f1c-4a36-9f6e-000000000001"
PREFIX = "/v3/" + PROJECT

port_file, log_file, ci_file = sys.argv[1:4]
lock = threading.Lock()
volume = {"id": VOLUME, "name": "fakevol", "status": "available", "size": 1,
          "multiattach": False, "attachments": []}
attachments = {}


def connection_info():
    with open(ci_file) as f:
        return json.load(f)


def put_omits():
    try:
        with open(ci_file + ".put-omits") as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def attachment_view(att):
    return {"id": att["id"], "volume_id": VOLUME, "status": att["status"],
            "attach_mode": "rw", "connection_info": att["connection_info"]}


def refresh_volume():
    live = [a for a in attachments.values() if a["status"] != "reserved"]
    volume["attachments"] = [{"attachment_id": a["id"], "volume_id": VOLUME,
                              "server_id": None, "host_name": "fakehost",
                              "device": None} for a in live]
    if not attachments:
        volume["status"] = "available"
    elif any(a["status"] == "attached" for a in attachments.values()):
        volume["status"] = "in-use"
    else:
        volume["status"] = "attaching" if live else "reserved"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("OpenStack-API-Version", "volume 3.70")
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, what):
        self.reply(404, {"itemNotFound": {"code": 404, "message": what + " not found"}})

    def handle_one(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        self.json_body = json.loads(self.rfile.read(n) or b"null")
        with open(log_file, "a") as f:
            f.write("%s %s\n" % (method, self.path))
        path = self.path.split("?")[0]
        if path == "/":
            return self.reply(200, {"versions": [{"id": "v3.0", "status": "CURRENT",
                                                  "version": "3.70", "min_version": "3.0"}]})
        if not path.startswith(PREFIX):
            return self.not_found(path)
        with lock:
            return self.route(method, path[len(PREFIX):])

    def route(self, method, path):
        parts = path.strip("/").split("/")
        if os.path.exists(ci_file + ".size"):
            with open(ci_file + ".size") as f:
                volume["size"] = int(f.read())
        if parts == ["volumes", VOLUME] and method == "GET":
            return self.reply(200, {"volume": volume})
        if parts == ["volumes", "detail"] and method == "GET":
            named = "name=fakevol" in self.path
            return self.reply(200, {"volumes": [volume] if named else []})
        if parts[0] == "volumes":
            return self.not_found("volume")
        if parts == ["attachments"] and method == "POST":
            att = {"id": str(uuid.uuid4()), "status": "reserved", "connection_info": {}}
            attachments[att["id"]] = att
            refresh_volume()
            return self.reply(200, {"attachment": attachment_view(att)})
        if parts == ["attachments", "detail"] and method == "GET":
            return self.reply(200, {"attachments": [attachment_view(a)
                                                    for a in attachments.values()]})
        att = attachments.get(parts[1]) if len(parts) > 1 else None
        if parts[0] != "attachments" or not att:
            return self.not_found("attachment")
        return self.route_attachment(method, parts[2:], att)

    def route_attachment(self, method, rest, att):
        if method == "PUT" and not rest:
            ci = connection_info()
            att["connection_info"] = dict(ci.get("data", {}),
                                          driver_volume_type=ci["driver_volume_type"])
            att["status"] = "attaching"
            refresh_volume()
            view = attachment_view(att)
            view["connection_info"] = {k: v for k, v in att["connection_info"].items()
                                       if k not in put_omits()}
            return self.reply(200, {"attachment": view})
        if method == "POST" and rest == ["action"] and "os-complete" in (self.json_body or {}):
            att["status"] = "attached"
            refresh_volume()
            return self.reply(204)
        if method == "DELETE" and not rest:
            del attachments[att["id"]]
            refresh_volume()
            return self.reply(200, {"attachment": attachment_view(att)})
        if method == "GET" and not rest:
            return self.reply(200, {"attachment": attachment_view(att)})
        return self.reply(400, {"badRequest": {"code": 400, "message": "not faked"}})

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")

    def do_PUT(self):
        self.handle_one("PUT")

    def do_DELETE(self):
        self.handle_one("DELETE")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
# Renamed into place, so that the port file never appears half written.
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
