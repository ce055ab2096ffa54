/* See ceph_config.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceph_config.h"
#include "lib/error.h"

#define KEYRING_FILE_MAX (64u << 10)

/* ---- keyrings ---- */

static const char *skip_blanks(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return end;
}

static bool is_base64(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]))
			return false;
	return len > 0;
}

/* The section header [name] on one line equals entity. */
static bool section_is(const char *s, const char *end, const char *entity)
{
	const char *close = memchr(s, ']', end - s);

	if (!close)
		return false;
	s = skip_blanks(s + 1, close);
	close = trim_end(s, close);
	return (size_t)(close - s) == strlen(entity) && memcmp(s, entity, close - s) == 0;
}

/* "key = VALUE" on one line: copies VALUE into key. */
static bool key_line(const char *s, const char *end, char *key)
{
	size_t len;

	if (end - s < 3 || memcmp(s, "key", 3) != 0)
		return false;
	s = skip_blanks(s + 3, end);
	if (s == end || *s != '=')
		return false;
	s = skip_blanks(s + 1, end);
	len = end - s;
	if (len >= CB_CEPH_KEY_MAX || !is_base64(s, len))
		return false;
	memcpy(key, s, len);
	key[len] = '\0';
	return true;
}

bool cb_ceph_keyring_lookup(const char *text, const char *entity, char key[CB_CEPH_KEY_MAX])
{
	bool in_section = false;

	while (*text) {
		const char *eol = strchrnul(text, '\n');
		const char *s = skip_blanks(text, eol);
		const char *e = trim_end(s, eol);

		if (s < e && *s == '[')
			in_section = section_is(s, e, entity);
		else if (in_section && key_line(s, e, key))
			return true;
		text = *eol ? eol + 1 : eol;
	}
	return false;
}

/* Plain read(2), so that no stdio buffer is left holding key material. */
int cb_ceph_keyring_file_lookup(const char *path, const char *entity,
				char key[CB_CEPH_KEY_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	char *text;
	int err = 0;

	if (fd == -1)
		return -1;
	text = malloc(KEYRING_FILE_MAX + 1);
	if (!text) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (n < KEYRING_FILE_MAX) {
		ssize_t r = read(fd, text + n, KEYRING_FILE_MAX - n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r ? errno : 0;
			break;
		}
		n += r;
	}
	close(fd);
	text[n] = '\0';
	if (!err && !cb_ceph_keyring_lookup(text, entity, key))
		err = ENOKEY;
	explicit_bzero(text, n);
	free(text);
	errno = err;
	return err ? -1 : 0;
}

/* ---- monitors ---- */

/* Cinder sends ports as strings; accept numbers too. */
static int port_text(const json_t *port, char *buf, size_t len)
{
	const char *s = json_string_value(port);
	long long n;
	char *end;

	if (json_is_integer(port)) {
		n = json_integer_value(port);
	} else if (s) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			n = -1;
	} else {
		n = -1;
	}
	if (n <= 0 || n > 65535)
		return -1;
	snprintf(buf, len, "%lld", n);
	return 0;
}

/* Appends "host:port" to out; an IPv6 literal needs brackets first. */
static void append_mon(char *out, const char *host, const char *port)
{
	bool v6 = strchr(host, ':') && host[0] != '[';

	if (*out)
		strcat(out, ",");
	strcat(out, v6 ? "[" : "");
	strcat(out, host);
	strcat(out, v6 ? "]" : "");
	if (port) {
		strcat(out, ":");
		strcat(out, port);
	}
}

/* Checks the lists and returns the length mon_host needs, or 0. */
static size_t mon_host_len(const json_t *hosts, const json_t *ports)
{
	size_t i, len = 1;
	const json_t *h;

	if (!json_is_array(hosts) || json_array_size(hosts) == 0) {
		cb_set_error(EINVAL, "connection_info data has no \"hosts\" list: "
			     "the Ceph monitors are needed to reach the cluster");
		return 0;
	}
	if (ports && !json_is_null(ports) && !json_is_array(ports)) {
		cb_set_error(EINVAL, "connection_info \"ports\" is not a list");
		return 0;
	}
	json_array_foreach(hosts, i, h) {
		if (!json_string_value(h) || !*json_string_value(h)) {
			cb_set_error(EINVAL, "connection_info \"hosts\"[%zu] is not a host name", i);
			return 0;
		}
		len += strlen(json_string_value(h)) + sizeof "[]:65535,";
	}
	return len;
}

char *cb_ceph_mon_host(const json_t *data)
{
	const json_t *hosts = json_object_get(data, "hosts");
	const json_t *ports = json_object_get(data, "ports");
	size_t i, len = mon_host_len(hosts, ports);
	const json_t *h;
	char *out;

	if (len == 0)
		return NULL;
	out = calloc(1, len);
	if (!out) {
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	json_array_foreach(hosts, i, h) {
		const json_t *p = json_array_get(ports, i);
		char port[8];

		if (p && port_text(p, port, sizeof port) == -1) {
			cb_set_error(EINVAL, "connection_info \"ports\"[%zu] is not a port number", i);
			free(out);
			return NULL;
		}
		append_mon(out, json_string_value(h), p ? port : NULL);
	}
	return out;
}

/* ---- the image ---- */

static int split_name(struct cb_ceph_target *t, const char *name)
{
	char *first, *last;

	t->spec = name;
	t->name = strdup(name);
	if (!t->name) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	first = strchr(t->name, '/');
	last = strrchr(t->name, '/');
	/* Non-empty parts, and at most one '/' between pool and image. */
	if (!first || first == t->name || !last[1] ||
	    (first != last && (last == first + 1 || strchr(first + 1, '/') != last))) {
		cb_set_error(EINVAL, "connection_info \"name\" is \"%s\", not "
			     "\"pool/image\" or \"pool/namespace/image\"", name);
		return -1;
	}
	*first = '\0';
	*last = '\0';
	t->pool = t->name;
	t->ns = first == last ? "" : first + 1;
	t->image = last + 1;
	return 0;
}

int cb_ceph_target_parse(struct cb_ceph_target *t, const json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	const char *user = json_string_value(json_object_get(data, "auth_username"));
	const char *mode = json_string_value(json_object_get(data, "access_mode"));
	const json_t *auth = json_object_get(data, "auth_enabled");

	if (!name) {
		cb_set_error(EINVAL, "connection_info data has no \"name\" string (pool/image)");
		return -1;
	}
	if (split_name(t, name) == -1)
		return -1;
	t->mon_host = cb_ceph_mon_host(data);
	if (!t->mon_host)
		return -1;
	t->cluster = json_string_value(json_object_get(data, "cluster_name"));
	if (!t->cluster || !*t->cluster)
		t->cluster = "ceph";
	/* Cinder always says; if it does not, cephx is the safe guess. */
	t->auth = !json_is_false(auth);
	if (!user || !*user) {
		if (t->auth) {
			cb_set_error(EINVAL, "connection_info data has auth_enabled but "
				     "no \"auth_username\": which Ceph user?");
			return -1;
		}
		user = "admin";		/* librados's own default */
	}
	if (strncmp(user, "client.", 7) == 0)
		user += 7;
	if ((size_t)snprintf(t->entity, sizeof t->entity, "client.%s", user) >= sizeof t->entity) {
		cb_set_error(EINVAL, "connection_info \"auth_username\" is too long");
		return -1;
	}
	t->read_only = mode && strcmp(mode, "ro") == 0;
	return 0;
}

void cb_ceph_target_free(struct cb_ceph_target *t)
{
	free(t->name);
	free(t->mon_host);
}
