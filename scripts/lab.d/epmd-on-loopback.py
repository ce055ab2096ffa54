"""Runs epmd listening on 127.0.0.1 only.

usage: epmd-on-loopback.py PORT

Given -address, epmd always adds [::1] to the addresses, so the lab binds the
socket itself and hands it over the way systemd socket activation does
(LISTEN_PID, LISTEN_FDS, fd 3; `epmd -systemd`).  exec keeps the PID, so the
caller's PID is epmd's.
"""

import os
import socket
import sys

port = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(port)))
sock.listen(128)
if sock.fileno() != 3:
    os.dup2(sock.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')
os.execvp('epmd', ['epmd', '-port', port, '-systemd'])
