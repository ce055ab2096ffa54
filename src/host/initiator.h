/* This host's iSCSI initiator name (IQN).
 *
 * open-iscsi's /etc/iscsi/initiatorname.iscsi when it is there, so that
 * an ACL Cinder builds for us matches what iscsid would log in with.
 * Otherwise a name generated once and kept in CB_INITIATOR_FILE: a
 * target's ACL is built for the IQN sent, so it must not change between
 * attach and detach, nor across reboots.
 */
#ifndef CB_HOST_INITIATOR_H
#define CB_HOST_INITIATOR_H

#include <stddef.h>

#define CB_ISCSI_INITIATOR_FILE "/etc/iscsi/initiatorname.iscsi"
/* CB_SYSCONFDIR comes from config.h (configure --sysconfdir). */
#define CB_INITIATOR_DIR CB_SYSCONFDIR "/cinder-brick"
#define CB_INITIATOR_FILE CB_INITIATOR_DIR "/initiatorname"

/* Writes the IQN to buf.  Returns 0, or -1 with the error set. */
int cb_initiator_name(char *buf, size_t len);

#endif
