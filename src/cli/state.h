/* What local-attach leaves for local-detach and list: one JSON file per
 * attached volume, /run/cinder-brick/<volume_id>.json (directory 0700,
 * files 0600), next to the directory <volume_id>/ that holds the FUSE
 * file and the serving process's pidfile.  /run is a tmpfs: after a
 * reboot nothing is attached, and the state is gone with it.
 *
 * The state holds no secret: no connection_info (it may carry a Ceph
 * keyring or CHAP password), only what detaching needs: volume_id,
 * attachment_id, flow ("v3" or "legacy"), microversion, connector,
 * device, fuse_file, pid, backend, mountpoint, mode.
 */
#ifndef CB_CLI_STATE_H
#define CB_CLI_STATE_H

#include <jansson.h>

#define STATE_DIR "/run/cinder-brick"

/* <STATE_DIR>/<volume_id> (created 0700 by state_volume_dir). */
int state_volume_dir(const char *volume_id, char *buf, size_t len);
/* The saved state, or NULL with the error set: ENOENT when there is none. */
json_t *state_load(const char *volume_id);
/* Writes st (which has "volume_id") atomically, mode 0600. */
int state_save(const json_t *st);
/* Removes the state file and the volume's directory. */
void state_remove(const char *volume_id);
/* Every saved state; NULL with the error set. */
json_t *state_list(void);

#endif
