"""The Cinder API as the lab's admin, for scripts/lab's helpers.

Standard library only, so that a helper starts in milliseconds.  The
environment gives LAB_KEYSTONE_URL and LAB_ADMIN_PASS (never argv).
"""

import json
import os
import urllib.request


def request(url, body=None, headers=None):
    """(headers, JSON answer) of a GET, or of a POST of BODY."""
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
    headers, reply = request(os.environ['LAB_KEYSTONE_URL'] + '/auth/tokens',
                             body)
    for entry in reply['token']['catalog']:
        if entry['type'] == 'block-storage':
            for ep in entry['endpoints']:
                if ep['interface'] == 'public':
                    return headers['X-Subject-Token'], ep['url']
    raise RuntimeError('no block-storage endpoint in the catalog')
