/* JSON over HTTP(S): see http.h. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fault.h"
#include "http.h"
#include "lib/error.h"
#include "lib/log.h"
#include "mask.h"

/* Keystone and most Cinder calls answer within a second.  The long
 * total timeout is for os-initialize_connection and attachment create,
 * which wait on the volume driver through an RPC that Cinder itself
 * gives 60 s by default. */
#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S 120L
/* No real answer is this big (a catalog of a large cloud is some
 * hundred KiB): a runaway body is cut off. */
#define BODY_MAX (16u << 20)
/* cb_log formats into 1 KiB, so long bodies are logged in pieces. */
#define LOG_CHUNK 900

struct cb_http {
	CURL *curl;
	char *cacert;
	char *cert;
	char *key;
	bool insecure;
	bool debug;
	unsigned int retries;
	unsigned int backoff_ms;
	char errbuf[CURL_ERROR_SIZE];
};

/* What one attempt received. */
struct exchange {
	char *body;
	size_t len;
	size_t cap;
	const char *want;	/* header to capture */
	char *header;
	bool too_big;		/* the body went over BODY_MAX */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void wipe_free(char *s, size_t len)
{
	if (!s)
		return;
	explicit_bzero(s, len);
	free(s);
}

static void wipe_free_str(char *s)
{
	wipe_free(s, s ? strlen(s) : 0);
}

static void exchange_clear(struct exchange *x)
{
	wipe_free(x->body, x->cap);
	wipe_free_str(x->header);
	x->body = x->header = NULL;
	x->len = x->cap = 0;
	x->too_big = false;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	return src && !(*dst = strdup(src)) ? -1 : 0;
}

struct cb_http *cb_http_new(const struct cb_http_opts *opts)
{
	struct cb_http *h;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		cb_set_error(EIO, "libcurl initialisation failed: %s",
			     curl_easy_strerror(curl_init_result));
		return NULL;
	}
	h = calloc(1, sizeof *h);
	if (!h || dup_opt(&h->cacert, opts->cacert) < 0 ||
	    dup_opt(&h->cert, opts->cert) < 0 || dup_opt(&h->key, opts->key) < 0 ||
	    !(h->curl = curl_easy_init())) {
		cb_http_free(h);
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	h->insecure = opts->insecure;
	h->debug = opts->debug;
	h->retries = opts->retries;
	h->backoff_ms = opts->backoff_ms;
	if (h->insecure)
		cb_log(CB_LOG_WARNING, "TLS certificate verification is disabled "
		       "(insecure): anyone on the path can read the credentials");
	return h;
}

void cb_http_free(struct cb_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->cacert);
	free(h->cert);
	free(h->key);
	free(h);
}

void cb_http_resp_free(struct cb_http_resp *resp)
{
	json_decref(resp->body);
	wipe_free_str(resp->header);
	resp->body = NULL;
	resp->header = NULL;
}

/* ---- curl callbacks ---- */

/* Grows by copying so that no stale copy of a secret (a keyring in a
 * connection_info) is left behind in freed memory, as realloc would. */
static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct exchange *x = opaque;
	size_t len = size * n;

	if (x->len + len > BODY_MAX) {
		x->too_big = true;
		return 0;	/* curl fails the transfer with CURLE_WRITE_ERROR */
	}
	if (x->len + len + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		char *p;

		while (cap < x->len + len + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p)
			return 0;
		if (x->body)
			memcpy(p, x->body, x->len);
		wipe_free(x->body, x->cap);
		x->body = p;
		x->cap = cap;
	}
	memcpy(x->body + x->len, data, len);
	x->len += len;
	x->body[x->len] = '\0';
	return len;
}

static size_t on_header(char *line, size_t size, size_t n, void *opaque)
{
	struct exchange *x = opaque;
	size_t len = size * n, name_len;

	if (!x->want)
		return len;
	name_len = strlen(x->want);
	if (len <= name_len || line[name_len] != ':' ||
	    strncasecmp(line, x->want, name_len) != 0)
		return len;
	line += name_len + 1;
	len -= name_len + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	wipe_free_str(x->header);
	x->header = strndup(line, len);
	return x->header ? size * n : 0;
}

/* ---- request set-up ---- */

static int add_header(struct curl_slist **list, const char *fmt, const char *value)
{
	struct curl_slist *l;
	char *line;

	if (asprintf(&line, fmt, value) < 0)
		return -1;
	l = curl_slist_append(*list, line);
	wipe_free_str(line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

static void free_headers(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static struct curl_slist *build_headers(const struct cb_http_req *r, bool has_body)
{
	struct curl_slist *list = NULL;

	/* "Expect:" stops curl's 100-continue round trip on large bodies. */
	if (add_header(&list, "Accept: %s", "application/json") < 0 ||
	    add_header(&list, "Expect:%s", "") < 0 ||
	    (has_body && add_header(&list, "Content-Type: %s", "application/json") < 0) ||
	    (r->token && add_header(&list, "X-Auth-Token: %s", r->token) < 0) ||
	    (r->api_version &&
	     add_header(&list, "OpenStack-API-Version: %s", r->api_version) < 0)) {
		free_headers(list);
		cb_set_error(ENOMEM, "out of memory");
		return NULL;
	}
	return list;
}

static CURLcode setup_tls(struct cb_http *h)
{
	CURL *c = h->curl;
	CURLcode cc = CURLE_OK;

	if (h->insecure) {
		cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		if (!cc)
			cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!cc && h->cacert)
		cc = curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	if (!cc && h->cert)
		cc = curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert);
	if (!cc && h->key)
		cc = curl_easy_setopt(c, CURLOPT_SSLKEY, h->key);
	return cc;
}

static void setup_method(CURL *c, const char *method, const char *body)
{
	bool sends = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;

	if (body || sends) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

/* curl_easy_reset keeps the connection cache, so every request starts
 * from the same options without losing keep-alive. */
static CURLcode setup(struct cb_http *h, const struct cb_http_req *r,
		      struct curl_slist *headers, const char *body, struct exchange *x)
{
	CURL *c = h->curl;
	CURLcode cc;

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cc)
		return cc;
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	/* Refused before the transfer when the Content-Length says so. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BODY_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	setup_method(c, r->method, body);
	return setup_tls(h);
}

/* ---- debug log ---- */

static void log_text(const char *prefix, const char *text)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len; off += LOG_CHUNK) {
		int n = (int)(len - off < LOG_CHUNK ? len - off : LOG_CHUNK);

		cb_log(CB_LOG_DEBUG, "%s%.*s", off ? "http:   ..." : prefix, n, text + off);
	}
}

static void log_masked_body(const char *prefix, const char *body, size_t len)
{
	char *masked;

	if (!body || !len)
		return;
	masked = cb_mask_body(body, len);
	if (masked)
		log_text(prefix, masked);
	wipe_free_str(masked);
}

static void log_request(const struct cb_http *h, const struct cb_http_req *r,
			const struct curl_slist *headers, const char *body)
{
	if (!h->debug)
		return;
	cb_log(CB_LOG_DEBUG, "http: > %s %s", r->method, r->url);
	for (const struct curl_slist *l = headers; l; l = l->next) {
		char *masked = cb_mask_header(l->data);

		cb_log(CB_LOG_DEBUG, "http: > %s", masked ? masked : "(header)");
		free(masked);
	}
	log_masked_body("http: > ", body, body ? strlen(body) : 0);
}

static void log_response(const struct cb_http *h, CURLcode cc, long status,
			 const struct exchange *x)
{
	double secs = 0;

	if (!h->debug)
		return;
	if (cc) {
		cb_log(CB_LOG_DEBUG, "http: < %s: %s", curl_easy_strerror(cc), h->errbuf);
		return;
	}
	curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &secs);
	cb_log(CB_LOG_DEBUG, "http: < HTTP %ld in %.3f s", status, secs);
	if (x->header)
		cb_log(CB_LOG_DEBUG, "http: < %s: %s", x->want,
		       cb_mask_is_secret_key(x->want) ? CB_MASK : x->header);
	log_masked_body("http: < ", x->body, x->len);
}

/* ---- the exchange ---- */

bool cb_http_should_retry(const char *method, CURLcode curl_code, long status)
{
	bool idempotent = strcmp(method, "POST") != 0;

	switch (curl_code) {
	case CURLE_OK:
		return status == 503;
	/* Nothing reached the server. */
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return true;
	/* The request may have been carried out. */
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
		return idempotent;
	default:
		return false;
	}
}

int cb_http_status_errno(long status)
{
	switch (status) {
	case 400: return EINVAL;
	case 401: return EACCES;
	case 403: return EPERM;
	case 404: return ENOENT;
	case 409: return EBUSY;
	case 413: return EDQUOT;	/* Cinder's overLimit: quota */
	case 429: return EAGAIN;
	case 501: return ENOTSUP;
	case 503: return EAGAIN;
	default: return status < 500 ? EINVAL : EIO;
	}
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY: return ENOMEM;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return EPROTO;
	default: return EIO;
	}
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* An unknown CA is the usual cause (a private cloud's own CA): say what
 * fixes it, as curl's words alone do not. */
static const char *tls_hint(const struct cb_http *h, CURLcode cc)
{
	if (cc != CURLE_PEER_FAILED_VERIFICATION)
		return "";
	if (h->cacert)
		return "; the server's certificate is not signed by the CA in "
		       "--os-cacert / OS_CACERT (or is not for this host)";
	return "; to trust the server's CA, give its certificate with "
	       "--os-cacert FILE (or OS_CACERT, or cacert in clouds.yaml); "
	       "--insecure skips the check";
}

/* curl's error buffer is the more precise ("Failed to connect to
 * 127.0.0.1 port 8776 after 0 ms: Couldn't connect to server"). */
static int transport_error(const struct cb_http *h, const struct cb_http_req *r,
			   CURLcode cc, unsigned int attempts)
{
	char tries[32] = "";

	if (attempts > 1)
		snprintf(tries, sizeof tries, ", %u attempts", attempts);
	cb_set_error(curl_errno(cc), "%s: %s (%s %s%s)%s", r->what,
		     h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc),
		     r->method, r->url, tries, tls_hint(h, cc));
	return -1;
}

/* curl would say "Failure writing output to destination" or "Maximum
 * file size exceeded", which names neither the call nor the cause. */
static bool answer_too_big(CURLcode cc, const struct exchange *x)
{
	return (cc == CURLE_WRITE_ERROR && x->too_big) || cc == CURLE_FILESIZE_EXCEEDED;
}

static int too_big_error(const struct cb_http *h, const struct cb_http_req *r)
{
	long status = 0;

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	cb_set_error(EMSGSIZE, "%s: the answer is larger than %u bytes (%u MiB), more "
		     "than any Cinder or Keystone answer should be: refused (HTTP %ld, "
		     "%s %s)", r->what, BODY_MAX, BODY_MAX >> 20, status, r->method,
		     r->url);
	return -1;
}

static int status_error(const struct cb_http_req *r, long status,
			const struct exchange *x)
{
	char *fault = cb_fault_text(x->body, x->len);

	cb_set_error(cb_http_status_errno(status), "%s: %s (HTTP %ld, %s %s)", r->what,
		     fault ? fault : "no error text from the server", status,
		     r->method, r->url);
	free(fault);
	return -1;
}

static int take_answer(const struct cb_http_req *r, long status,
		       struct exchange *x, struct cb_http_resp *resp)
{
	json_error_t err;

	if (x->len) {
		resp->body = json_loadb(x->body, x->len, 0, &err);
		if (!resp->body) {
			cb_set_error(EPROTO, "%s: the answer is not JSON: %s (HTTP %ld, %s %s)",
				     r->what, err.text, status, r->method, r->url);
			return -1;
		}
	}
	resp->header = x->header;
	x->header = NULL;
	return 0;
}

static CURLcode attempt(struct cb_http *h, const struct cb_http_req *r,
			struct curl_slist *headers, const char *body,
			struct exchange *x, long *status)
{
	CURLcode cc;

	exchange_clear(x);
	*status = 0;
	cc = setup(h, r, headers, body, x);
	if (cc)
		return cc;
	log_request(h, r, headers, body);
	cc = curl_easy_perform(h->curl);
	if (!cc)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	log_response(h, cc, *status, x);
	return cc;
}

int cb_http_do(struct cb_http *h, const struct cb_http_req *r,
	       struct cb_http_resp *resp)
{
	struct exchange x = { .want = r->want_header };
	struct curl_slist *headers = NULL;
	unsigned int tries = 0;
	char *body = NULL;
	CURLcode cc;
	long status;
	int ret = -1;

	memset(resp, 0, sizeof *resp);
	if (r->body && !(body = json_dumps(r->body, JSON_COMPACT))) {
		cb_set_error(ENOMEM, "out of memory");
		return -1;
	}
	headers = build_headers(r, body != NULL);
	if (!headers)
		goto out;
	for (;;) {
		cc = attempt(h, r, headers, body, &x, &status);
		if (tries++ >= h->retries || !cb_http_should_retry(r->method, cc, status))
			break;
		cb_log(CB_LOG_WARNING, "%s: %s; retrying in %u ms", r->what,
		       cc ? curl_easy_strerror(cc) : "HTTP 503 Service Unavailable",
		       h->backoff_ms << (tries - 1));
		sleep_ms(h->backoff_ms << (tries - 1));
	}
	resp->status = status;
	if (answer_too_big(cc, &x))
		ret = too_big_error(h, r);
	else if (cc)
		ret = transport_error(h, r, cc, tries);
	else if (status >= 400)
		ret = status_error(r, status, &x);
	else
		ret = take_answer(r, status, &x, resp);
out:
	wipe_free_str(body);
	free_headers(headers);
	exchange_clear(&x);
	return ret;
}

/* By hand rather than isalnum(): that depends on the locale. */
static bool is_unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("-._~", ch);
}

char *cb_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch && is_unreserved(ch)) {
			*o++ = (char)ch;
			continue;
		}
		*o++ = '%';
		*o++ = hex[ch >> 4];
		*o++ = hex[ch & 15];
	}
	*o = '\0';
	return out;
}
