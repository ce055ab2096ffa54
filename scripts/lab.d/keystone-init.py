"""Fills the lab's Keystone database; idempotent.

usage: keystone-init.py KEYSTONE_CONF   (passwords in LAB_*_PASS variables)

Does what `keystone-manage bootstrap` does (the same Bootstrapper class: the
admin user, project and role, the reader and member roles, region RegionOne,
the identity endpoints), then adds the projects service and demo, the user
demo (member of demo), the service user cinder (admin and service on
project service), the admin role for admin on demo, and Cinder in the catalog
under both service types clients look for: block-storage (official) and
volumev3 (the alias python-cinderclient and older tools default to).

It works on the database directly, through Keystone's own provider APIs,
before uwsgi starts: over HTTP the same ~25 calls took 20-30 s on a busy
2-core machine (each one pays for token validation and policy checks).
Passwords come from the environment, never from argv.
"""

import os
import sys
import uuid

import keystone.conf
from keystone.cmd import bootstrap
from keystone.common import driver_hints
from keystone.common import provider_api
from keystone.common import sql
from keystone import exception

CONF = keystone.conf.CONF
PROVIDERS = provider_api.ProviderAPIs
DOMAIN = 'default'
REGION = 'RegionOne'
KEYSTONE_URL = os.environ['LAB_KEYSTONE_URL']
CINDER_URL = os.environ['LAB_CINDER_URL'] + '/v3/%(project_id)s'


def ensure_project(name, description):
    try:
        return PROVIDERS.resource_api.get_project_by_name(name, DOMAIN)
    except exception.ProjectNotFound:
        pid = uuid.uuid4().hex
        return PROVIDERS.resource_api.create_project(pid, {
            'id': pid, 'name': name, 'domain_id': DOMAIN,
            'description': description, 'enabled': True})


def ensure_role(name):
    hints = driver_hints.Hints()
    hints.add_filter('name', name)
    found = PROVIDERS.role_api.list_roles(hints)
    if found:
        return found[0]
    rid = uuid.uuid4().hex
    return PROVIDERS.role_api.create_role(rid, {'id': rid, 'name': name})


def ensure_user(name, password, project):
    try:
        user = PROVIDERS.identity_api.get_user_by_name(name, DOMAIN)
    except exception.UserNotFound:
        return PROVIDERS.identity_api.create_user({
            'name': name, 'domain_id': DOMAIN, 'enabled': True,
            'password': password, 'default_project_id': project['id']})
    # Keep the password in step with the state dir's secret file.
    return PROVIDERS.identity_api.update_user(user['id'],
                                              {'password': password})


def grant(role, user, project):
    try:
        PROVIDERS.assignment_api.add_role_to_user_and_project(
            user['id'], project['id'], role['id'])
    except exception.Conflict:
        pass


def ensure_service(name, stype, description):
    hints = driver_hints.Hints()
    hints.add_filter('type', stype)
    found = [s for s in PROVIDERS.catalog_api.list_services(hints)
             if s['name'] == name]
    if found:
        service = found[0]
    else:
        sid = uuid.uuid4().hex
        service = PROVIDERS.catalog_api.create_service(sid, {
            'id': sid, 'name': name, 'type': stype, 'enabled': True,
            'description': description})
    hints = driver_hints.Hints()
    hints.add_filter('service_id', service['id'])
    have = {e['interface'] for e in PROVIDERS.catalog_api.list_endpoints(hints)}
    for interface in ('public', 'internal', 'admin'):
        if interface not in have:
            eid = uuid.uuid4().hex
            PROVIDERS.catalog_api.create_endpoint(eid, {
                'id': eid, 'service_id': service['id'], 'interface': interface,
                'region_id': REGION, 'url': CINDER_URL, 'enabled': True})


def bootstrap_admin():
    """What `keystone-manage bootstrap` does; also loads the backends."""
    boot = bootstrap.Bootstrapper()
    boot.admin_username = 'admin'
    boot.admin_password = os.environ['LAB_ADMIN_PASS']
    boot.project_name = 'admin'
    boot.admin_role_name = 'admin'
    boot.region_id = REGION
    boot.service_name = 'keystone'
    boot.public_url = boot.internal_url = boot.admin_url = KEYSTONE_URL
    boot.immutable_roles = True
    boot.bootstrap()


def main():
    # The same set-up as keystone-manage's main().
    keystone.conf.configure()
    sql.initialize()
    keystone.conf.set_default_for_default_log_levels()
    CONF(args=[], project='keystone', default_config_files=[sys.argv[1]])
    keystone.conf.setup_logging()
    bootstrap_admin()

    admin_role, member, service_role = (ensure_role(n) for n in
                                        ('admin', 'member', 'service'))
    service = ensure_project('service', 'OpenStack service users')
    demo = ensure_project('demo', 'non-admin lab project')
    admin = PROVIDERS.identity_api.get_user_by_name('admin', DOMAIN)
    demo_user = ensure_user('demo', os.environ['LAB_DEMO_PASS'], demo)
    cinder = ensure_user('cinder', os.environ['LAB_CINDER_PASS'], service)

    grant(member, demo_user, demo)
    grant(admin_role, admin, demo)
    grant(admin_role, cinder, service)
    grant(service_role, cinder, service)

    ensure_service('cinder', 'block-storage', 'Cinder Volume Service')
    ensure_service('cinderv3', 'volumev3', 'Cinder Volume Service v3')


if __name__ == '__main__':
    main()
