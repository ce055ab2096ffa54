"""Cinder's RBD driver with the client keyring in connection_info (lab only).

Since Victoria, Cinder no longer registers the option ``rbd_keyring_conf``
(OSSN-0085), so the stock RBDDriver never puts ``keyring`` into
connection_info and every consumer must have
/etc/ceph/<cluster>.client.<user>.keyring itself.  The driver still reads the
option with getattr() for cinderlib, which sets it as a plain attribute.  This
subclass registers the option again for its own backend section, so that
``rbd_keyring_conf`` in cinder.conf takes effect, and re-reads the keyring:
the same code path cinderlib uses.

scripts/lab loads it through PYTHONPATH when LAB_RBD_KEYRING_IN_CONNINFO=1.
"""

from oslo_config import cfg

from cinder.volume.drivers import rbd

keyring_opt = cfg.StrOpt('rbd_keyring_conf',
                         help='Keyring file whose contents are returned in '
                              'connection_info as "keyring".')


class RBDKeyringDriver(rbd.RBDDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values([keyring_opt])
        self._set_keyring_attributes()
