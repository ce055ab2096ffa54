"""Cinder's RBD driver with each volume served over iSCSI by tgtd (lab only).

The volumes stay RBD images, made, cloned, snapshotted and deleted by the
RBD driver; only the way a host reaches them changes.  initialize_connection
exports the image through tgtd's rbd backing store (tgt-rbd) as a target of
its own, with the volume's CHAP credentials and an ACL entry for the
connector's initiator, and returns iSCSI connection_info shaped as Cinder's
LVM driver with its tgtadm target returns it.  So cinder-brick meets the
iSCSI volumes of a real Cinder with no LVM and no kernel target.

scripts/lab puts this package on cinder-volume's PYTHONPATH (volume_driver
= cinder_brick_lab.tgt_rbd.TgtRBDDriver) and runs the tgtd it talks to.
"""

from oslo_config import cfg

from cinder.common import constants
from cinder import exception
from cinder.volume.drivers import rbd
from cinder.volume import volume_utils

from cinder_brick_lab import tgtadm

tgt_opts = [
    cfg.ListOpt('lab_tgt_portals', default=['127.0.0.1:3260'],
                help='host:port of each portal tgtd listens on; the first '
                     'is target_portal, all are target_portals.'),
    cfg.IntOpt('lab_tgt_control_port', default=0,
               help="tgtd's --control-port, named by every tgtadm call."),
]


class TgtRBDDriver(rbd.RBDDriver):
    STORAGE_PROTOCOL = constants.ISCSI

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(tgt_opts)
        self.tgtd = tgtadm.Tgtd(self.configuration.lab_tgt_control_port)

    def _iqn(self, volume):
        # iqn.2010-10.org.openstack:volume-<id>, as Cinder's iSCSI targets.
        return self.configuration.target_prefix + volume.name

    @staticmethod
    def _chap(volume):
        """(method, user, password) from provider_auth, or Nones."""
        if not volume.provider_auth:
            return None, None, None
        return tuple(volume.provider_auth.split())

    def validate_connector(self, connector):
        # As Cinder's iSCSI targets: the ACL needs the host's initiator name.
        if not connector.get('initiator'):
            raise exception.InvalidConnectorException(missing='initiator')

    def create_export(self, context, volume, connector):
        # CHAP credentials are made once per volume and kept where Cinder's
        # LVM driver keeps them: provider_auth, "CHAP user password".
        if volume.provider_auth:
            return None
        return {'provider_auth': 'CHAP %s %s' % (
            volume_utils.generate_username(),
            volume_utils.generate_password())}

    def ensure_export(self, context, volume):
        # cinder-volume calls this at start for every in-use volume: once
        # tgtd has restarted, their targets come back.
        initiators = self._initiators(volume)
        if volume.provider_auth and initiators:
            self._export(volume, initiators)

    def remove_export(self, context, volume):
        self.tgtd.remove(self._iqn(volume), self._chap(volume)[1])

    def initialize_connection(self, volume, connector):
        self.validate_connector(connector)
        self._export(volume, [connector['initiator']])
        return {'driver_volume_type': 'iscsi',
                'data': self._iscsi_properties(volume,
                                               connector.get('multipath'))}

    def terminate_connection(self, volume, connector, **kwargs):
        """Takes the connector's initiator off the ACL, and the target away
        with the last attachment that needs it.

        Returns whether other attachments share the connection, as Cinder's
        LVM driver does (then Cinder does not call remove_export).
        """
        initiator = (connector or {}).get('initiator')
        attached = self._initiators(volume)
        if initiator and attached.count(initiator) > 1:
            return True  # another attachment of that host needs the ACL
        others = [i for i in attached if i != initiator]
        if others:
            if initiator:
                self.tgtd.unbind(self._iqn(volume), initiator)
            return True
        self.remove_export(None, volume)
        return False

    @staticmethod
    def _initiators(volume):
        """The initiators of the volume's attachments, one per attachment."""
        return [a.connector['initiator'] for a in volume.volume_attachment
                if a.connector and a.connector.get('initiator')]

    def _export(self, volume, initiators):
        _, user, password = self._chap(volume)
        if not user:
            raise exception.VolumeBackendAPIException(
                data='volume %s has no CHAP credentials: create_export '
                     'makes them' % volume.id)
        # tgtd reaches Ceph as this driver does: the same ceph.conf and
        # cephx user, whose keyring it finds in /etc/ceph.
        conf = self.configuration
        bsopts = ';'.join('%s=%s' % (k, v) for k, v in
                          (('conf', conf.rbd_ceph_conf), ('id', conf.rbd_user))
                          if v)
        self.tgtd.export(self._iqn(volume), '%s/%s' % (conf.rbd_pool,
                                                       volume.name),
                         bsopts, user, password, initiators)

    def _iscsi_properties(self, volume, multipath):
        """The data of Cinder's ISCSITarget._get_iscsi_properties for a
        volume its tgtadm target exports on several portals."""
        portals = self.configuration.lab_tgt_portals
        iqn = self._iqn(volume)
        method, user, password = self._chap(volume)
        data = {'target_discovered': False}
        if len(portals) > 1 or multipath:
            data['target_portals'] = list(portals)
            data['target_iqns'] = [iqn] * len(portals)
            data['target_luns'] = [tgtadm.LUN] * len(portals)
        data.update(target_portal=portals[0], target_iqn=iqn,
                    target_lun=tgtadm.LUN, volume_id=volume.id,
                    auth_method=method, auth_username=user,
                    auth_password=password,
                    encrypted=volume.encryption_key_id is not None)
        return data
