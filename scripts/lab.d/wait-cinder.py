"""Waits until the Cinder API lists cinder-volume as up with a fresh heartbeat.

usage: wait-cinder.py SINCE TIMEOUT
  SINCE    UTC time (YYYY-MM-DDTHH:MM:SS) when cinder-volume was last started
  TIMEOUT  seconds

"up" alone is not enough right after a restart: the API computes it from the
last heartbeat in the database, which may still be the previous process's
(service_down_time is 30 s).  So the heartbeat must also be newer than SINCE.
Standard library only, so that it starts in milliseconds.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

KS_URL = os.environ['LAB_KEYSTONE_URL']
BACKEND_HOST = os.environ['LAB_CINDER_VOLUME_HOST']


def request(url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers, json.load(resp)


def admin_token():
    """Returns (token, volume endpoint URL) for the admin project."""
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'domain': {'id': 'default'},
            'password': os.environ['LAB_ADMIN_PASS']}}},
        'scope': {'project': {'name': 'admin',
                              'domain': {'id': 'default'}}}}}
    headers, reply = request(KS_URL + '/auth/tokens', body)
    for entry in reply['token']['catalog']:
        if entry['type'] == 'block-storage':
            for ep in entry['endpoints']:
                if ep['interface'] == 'public':
                    return headers['X-Subject-Token'], ep['url']
    raise RuntimeError('no block-storage endpoint in the catalog')


def volume_service(token, url):
    _, reply = request(url + '/os-services?binary=cinder-volume',
                       headers={'X-Auth-Token': token})
    for svc in reply['services']:
        if svc['host'] == BACKEND_HOST:
            return svc
    return None


def main():
    since, timeout = sys.argv[1], float(sys.argv[2])
    deadline = time.monotonic() + timeout
    token = url = None
    last = 'no answer from Keystone/Cinder yet'
    while time.monotonic() < deadline:
        try:
            if token is None:
                token, url = admin_token()
            svc = volume_service(token, url)
            if svc is None:
                last = f'{BACKEND_HOST} not registered yet'
            else:
                # updated_at is naive UTC: "2026-11-24T16:14:28.000000"
                fresh = (svc['updated_at'] or '')[:19] > since
                last = (f"{svc['host']} state={svc['state']} "
                        f"status={svc['status']} updated_at={svc['updated_at']}")
                if svc['state'] == 'up' and fresh:
                    print(last)
                    return 0
        except (OSError, urllib.error.URLError, KeyError, ValueError) as e:
            last = f'{type(e).__name__}: {e}'
        time.sleep(0.5)
    print(f'timed out after {timeout:.0f} s: {last}', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
