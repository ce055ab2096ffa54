"""Waits until the Cinder API lists each cinder-volume backend as up with a
fresh heartbeat, and the scheduler has its capabilities (a pool).

usage: wait-cinder.py SINCE TIMEOUT
  SINCE    UTC time (YYYY-MM-DDTHH:MM:SS) when cinder-volume was last started
  TIMEOUT  seconds
LAB_CINDER_VOLUME_HOSTS names the backends (host@backend, comma-separated).

"up" alone is not enough right after a restart: the API computes it from the
last heartbeat in the database, which may still be the previous process's
(service_down_time is 30 s).  So the heartbeat must also be newer than SINCE.
And a backend can be up while the scheduler has not heard its capabilities
(its first report came before the scheduler listened): volumes would fail
with NoValidBackend until its next report.
"""

import os
import sys
import time
import urllib.error

from lab_api import admin_token, request

BACKEND_HOSTS = os.environ['LAB_CINDER_VOLUME_HOSTS'].split(',')


def volume_services(token, url):
    """{host: service} of the backends asked for that have registered."""
    _, reply = request(url + '/os-services?binary=cinder-volume',
                       headers={'X-Auth-Token': token})
    return {svc['host']: svc for svc in reply['services']
            if svc['host'] in BACKEND_HOSTS}


def scheduled_hosts(token, url):
    """The backends (host@backend) that the scheduler has a pool of."""
    _, reply = request(url + '/scheduler-stats/get_pools',
                       headers={'X-Auth-Token': token})
    return {pool['name'].split('#')[0] for pool in reply['pools']}


def state(host, svc, since):
    """(is it up since SINCE, what to say of it)."""
    if svc is None:
        return False, f'{host} not registered yet'
    # updated_at is naive UTC: "2026-11-24T16:14:28.000000"
    fresh = (svc['updated_at'] or '')[:19] > since
    return (svc['state'] == 'up' and fresh,
            f"{host} state={svc['state']} status={svc['status']} "
            f"updated_at={svc['updated_at']}")


def readiness(token, url, since):
    """(are all backends ready, what to say of them)."""
    services = volume_services(token, url)
    states = [state(h, services.get(h), since) for h in BACKEND_HOSTS]
    said = '; '.join(text for _, text in states)
    if not all(up for up, _ in states):
        return False, said
    pending = set(BACKEND_HOSTS) - scheduled_hosts(token, url)
    said += ''.join(f'; {host} has no pool in the scheduler yet'
                    for host in sorted(pending))
    return not pending, said


def main():
    since, timeout = sys.argv[1], float(sys.argv[2])
    deadline = time.monotonic() + timeout
    token = url = None
    last = 'no answer from Keystone/Cinder yet'
    while time.monotonic() < deadline:
        try:
            if token is None:
                token, url = admin_token()
            ready, last = readiness(token, url, since)
            if ready:
                print(last)
                return 0
        except (OSError, urllib.error.URLError, KeyError, ValueError) as e:
            last = f'{type(e).__name__}: {e}'
        time.sleep(0.5)
    print(f'timed out after {timeout:.0f} s: {last}', file=sys.stderr)
    return 1

if __name__ == '__main__':
    sys.exit(main())
