"""Makes the lab's volume types that select a backend; idempotent.

usage: volume-types.py NAME=BACKEND...
  (LAB_KEYSTONE_URL and LAB_ADMIN_PASS in the environment)

A type NAME, public, with extra spec volume_backend_name=BACKEND.  A type
that exists is left as it is: Cinder refuses to change the extra specs of a
type that has volumes, so a wrong one is an error to fix by hand.
"""

import sys

from lab_api import admin_token, request


def main():
    token, url = admin_token()
    auth = {'X-Auth-Token': token}
    _, reply = request(url + '/types?is_public=None', headers=auth)
    types = {t['name']: t for t in reply['volume_types']}
    for arg in sys.argv[1:]:
        name, backend = arg.split('=', 1)
        vtype = types.get(name)
        if vtype is None:
            _, reply = request(url + '/types', {'volume_type': {
                'name': name, 'os-volume-type-access:is_public': True,
                'description': f'volumes of the backend {backend}',
                'extra_specs': {'volume_backend_name': backend}}}, auth)
            vtype = reply['volume_type']
            print(f'volume type {name}: made, backend {backend}')
        have = (vtype.get('extra_specs') or {}).get('volume_backend_name')
        if have != backend:
            print(f'volume type {name} exists with volume_backend_name '
                  f'{have!r}, not {backend!r}: delete it (openstack volume '
                  f'type delete {name}) and run scripts/lab up',
                  file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
