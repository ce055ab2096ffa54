"""tgtd's control channel, through tgtadm, for the lab's iSCSI driver.

One tgtd serves every volume, each as a target of its own: LUN 1 is the
volume's RBD image (tgt-rbd's backing store; LUN 0 is tgtd's controller), an
account holds the volume's CHAP credentials and the ACL names the initiators
of its attachments.  Every call names the lab tgtd's control port, so that
another tgtd on the host (a test's) is never touched.

tgtadm exits 22 for every error; its message tells them apart.  The password
is on tgtadm's command line for the few milliseconds it runs (tgtadm takes it
no other way); oslo's execute masks it in what it logs.
"""

import re

from oslo_concurrency import lockutils
from oslo_concurrency import processutils
from oslo_utils import excutils

LUN = 1

# Messages of errors that mean the state asked for is already there.
EXISTS = ('already exists',)
GONE = ("can't find", 'does not exist')


class Tgtd:
    def __init__(self, control_port):
        self.control_port = str(control_port)

    def _adm(self, *args, ok=()):
        """Runs tgtadm; an error whose message holds a string of OK is success."""
        try:
            out, _ = processutils.execute('tgtadm', '-C', self.control_port,
                                          '--lld', 'iscsi', *map(str, args))
            return out
        except processutils.ProcessExecutionError as e:
            if any(m in (e.stderr or '') for m in ok):
                return ''
            raise

    def targets(self):
        """{IQN: tid} of the targets tgtd serves."""
        out = self._adm('--op', 'show', '--mode', 'target')
        return {m.group(2): int(m.group(1))
                for m in re.finditer(r'^Target (\d+): (\S+)$', out, re.M)}

    # One lock for every change: a tid is chosen from what tgtd shows, and
    # cinder-volume runs attach and detach calls side by side.
    @lockutils.synchronized('cinder-brick-lab-tgtd')
    def export(self, iqn, path, bsopts, user, password, initiators):
        """Makes IQN serve the RBD image PATH to INITIATORS with CHAP.

        Idempotent: a target already there keeps its LUN and account and
        gains the initiators it lacks.
        """
        targets = self.targets()
        tid = targets.get(iqn)
        if tid is None:
            tid = max(targets.values(), default=0) + 1
            self._create(tid, iqn, path, bsopts, user, password)
        for initiator in initiators:
            self._adm('--op', 'bind', '--mode', 'target', '--tid', tid,
                      '--initiator-name', initiator, ok=EXISTS)
        return tid

    def _create(self, tid, iqn, path, bsopts, user, password):
        self._adm('--op', 'new', '--mode', 'target', '--tid', tid,
                  '--targetname', iqn)
        try:
            self._adm('--op', 'new', '--mode', 'logicalunit', '--tid', tid,
                      '--lun', LUN, '--bstype', 'rbd', '--backing-store', path,
                      '--bsopts', bsopts)
            # As Cinder's tgtadm target: UNMAP reaches the image.
            self._adm('--op', 'update', '--mode', 'logicalunit', '--tid', tid,
                      '--lun', LUN, '--params', 'thin_provisioning=1')
            self._adm('--op', 'new', '--mode', 'account', '--user', user,
                      '--password', password, ok=EXISTS)
            self._adm('--op', 'bind', '--mode', 'account', '--tid', tid,
                      '--user', user)
        except processutils.ProcessExecutionError:
            with excutils.save_and_reraise_exception():
                self._adm('--op', 'delete', '--mode', 'target', '--tid', tid,
                          '--force', ok=GONE)

    @lockutils.synchronized('cinder-brick-lab-tgtd')
    def unbind(self, iqn, initiator):
        """Takes INITIATOR off IQN's ACL; its sessions end at logout."""
        tid = self.targets().get(iqn)
        if tid is not None:
            self._adm('--op', 'unbind', '--mode', 'target', '--tid', tid,
                      '--initiator-name', initiator, ok=GONE)

    @lockutils.synchronized('cinder-brick-lab-tgtd')
    def remove(self, iqn, user):
        """Deletes IQN's target (ending its sessions) and the account USER.

        The image stays in RBD; what is gone already is no error.
        """
        tid = self.targets().get(iqn)
        if tid is not None:
            self._adm('--op', 'delete', '--mode', 'target', '--tid', tid,
                      '--force', ok=GONE)
        if user:
            self._adm('--op', 'delete', '--mode', 'account', '--user', user,
                      ok=GONE)
