/* See iscsi_target.h. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iscsi_target.h"
#include "lib/error.h"

static int copy_string(char *out, size_t len, const json_t *v, const char *field)
{
	const char *s = json_string_value(v);

	if (!s || !*s || strlen(s) >= len) {
		cb_set_error(EINVAL, "connection_info data \"%s\" must be a non-empty string "
			     "of at most %zu bytes", field, len - 1);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* Cinder sends LUNs as integers; some drivers as strings of digits. */
static int parse_lun(const json_t *v, const char *field, int *lun)
{
	const char *s = json_string_value(v);
	char *end;
	long n;

	if (json_is_integer(v)) {
		n = (long)json_integer_value(v);
	} else if (s && *s) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end)
			n = -1;
	} else {
		n = -1;
	}
	if (n < 0 || n > 65535) {
		cb_set_error(EINVAL, "connection_info data \"%s\" must be a LUN number "
			     "from 0 to 65535", field);
		return -1;
	}
	*lun = (int)n;
	return 0;
}

static int parse_path(struct iscsi_path_address *p, const json_t *portal, const json_t *iqn,
		      const json_t *lun, const char *which)
{
	char field[32];

	snprintf(field, sizeof field, "target_portal%s", which);
	if (copy_string(p->portal, sizeof p->portal, portal, field))
		return -1;
	snprintf(field, sizeof field, "target_iqn%s", which);
	if (copy_string(p->iqn, sizeof p->iqn, iqn, field))
		return -1;
	snprintf(field, sizeof field, "target_lun%s", which);
	return parse_lun(lun, field, &p->lun);
}

/* The lists, where target_iqns and target_luns may be absent (one IQN or
 * LUN for every portal). */
static int parse_lists(const json_t *data, struct iscsi_target *t)
{
	const json_t *portals = json_object_get(data, "target_portals");
	const json_t *iqns = json_object_get(data, "target_iqns");
	const json_t *luns = json_object_get(data, "target_luns");
	size_t n = json_array_size(portals), i;

	if (n > ISCSI_MAX_PATHS) {
		cb_set_error(EINVAL, "connection_info data \"target_portals\" lists %zu "
			     "portals: at most %d are used", n, ISCSI_MAX_PATHS);
		return -1;
	}
	if ((iqns && json_array_size(iqns) != n) || (luns && json_array_size(luns) != n)) {
		cb_set_error(EINVAL, "connection_info data \"target_portals\", \"target_iqns\" "
			     "and \"target_luns\" must be lists of the same length");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const json_t *iqn = iqns ? json_array_get(iqns, i) : json_object_get(data, "target_iqn");
		const json_t *lun = luns ? json_array_get(luns, i) : json_object_get(data, "target_lun");

		if (parse_path(&t->paths[i], json_array_get(portals, i), iqn, lun, "s"))
			return -1;
	}
	t->n_paths = (unsigned)n;
	return 0;
}

static int parse_chap(const json_t *data, const char *method_key, const char *user_key,
		      const char *password_key, struct iscsi_chap *c, bool *on)
{
	const char *method = json_string_value(json_object_get(data, method_key));

	*on = false;
	if (!method || !*method || strcasecmp(method, "none") == 0)
		return 0;
	if (strcasecmp(method, "CHAP") != 0) {
		cb_set_error(ENOTSUP, "connection_info data \"%s\" is \"%.32s\": only CHAP "
			     "is supported", method_key, method);
		return -1;
	}
	if (copy_string(c->user, sizeof c->user, json_object_get(data, user_key), user_key) ||
	    copy_string(c->password, sizeof c->password, json_object_get(data, password_key),
			password_key))
		return -1;
	*on = true;
	return 0;
}

static bool is_true(const json_t *v)
{
	const char *s = json_string_value(v);

	return json_is_true(v) || (s && strcasecmp(s, "true") == 0);
}

int iscsi_target_parse(const json_t *data, bool multipath, struct iscsi_target *t)
{
	const json_t *portals = json_object_get(data, "target_portals");
	const char *mode = json_string_value(json_object_get(data, "access_mode"));

	memset(t, 0, sizeof *t);
	if (!json_is_object(data)) {
		cb_set_error(EINVAL, "iscsi connection_info has no \"data\" object");
		return -1;
	}
	if (portals && !json_is_array(portals)) {
		cb_set_error(EINVAL, "connection_info data \"target_portals\" is not a list");
		return -1;
	}
	if (json_array_size(portals) && (multipath || !json_object_get(data, "target_portal"))) {
		if (parse_lists(data, t))
			goto fail;
	} else {
		if (parse_path(&t->paths[0], json_object_get(data, "target_portal"),
			       json_object_get(data, "target_iqn"),
			       json_object_get(data, "target_lun"), ""))
			goto fail;
		t->n_paths = 1;
		t->discover = multipath;
	}
	if (t->discover && parse_chap(data, "discovery_auth_method", "discovery_auth_username",
				      "discovery_auth_password", &t->discovery,
				      &t->discovery_chap))
		goto fail;
	if (parse_chap(data, "auth_method", "auth_username", "auth_password", &t->session,
		       &t->chap))
		goto fail;
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0) {
		cb_set_error(EINVAL, "connection_info data \"access_mode\" is \"%.8s\", not "
			     "rw or ro", mode);
		goto fail;
	}
	t->read_only = mode && strcmp(mode, "ro") == 0;
	t->discard = is_true(json_object_get(data, "discard"));
	return 0;
fail:
	iscsi_target_wipe(t);
	return -1;
}

static bool is_path(const struct iscsi_target *t, const char *portal)
{
	for (unsigned i = 0; i < t->n_paths; i++)
		if (strcmp(t->paths[i].portal, portal) == 0)
			return true;
	return false;
}

void iscsi_target_add_discovered(struct iscsi_target *t, const char *iqn,
				 const char *address)
{
	struct iscsi_path_address *p = &t->paths[t->n_paths];
	/* The portal group tag follows the last comma ("[v6]:port" has none). */
	const char *tag = strrchr(address, ',');
	size_t len = tag ? (size_t)(tag - address) : strlen(address);

	if (t->n_paths == ISCSI_MAX_PATHS || strcmp(iqn, t->paths[0].iqn) != 0 || len == 0 ||
	    len >= sizeof p->portal)
		return;
	*p = t->paths[0];
	memcpy(p->portal, address, len);
	p->portal[len] = '\0';
	if (!is_path(t, p->portal))
		t->n_paths++;
}

void iscsi_target_wipe(struct iscsi_target *t)
{
	explicit_bzero(t->session.password, sizeof t->session.password);
	explicit_bzero(t->discovery.password, sizeof t->discovery.password);
}
