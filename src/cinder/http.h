/* JSON over HTTP(S) for the Keystone and Cinder clients (libcurl).
 *
 * One struct cb_http wraps one curl easy handle, so connections are
 * reused; it is not thread-safe.  TLS is verified unless the caller asks
 * otherwise, redirects are not followed (a token must not travel to
 * another host), and only http and https URLs are accepted.
 *
 * Failed requests are retried a bounded number of times with backoff, but
 * only when no harm can come of it: a 503, a connection that could not be
 * made, or, for idempotent methods only, a connection lost mid-exchange.
 * A POST whose answer was lost may have been carried out, so it is not
 * repeated.  4xx answers are never retried.
 */
#ifndef CB_CINDER_HTTP_H
#define CB_CINDER_HTTP_H

#include <stdbool.h>

#include <curl/curl.h>
#include <jansson.h>

struct cb_http_opts {
	const char *cacert;	/* CA bundle, or NULL for the system's */
	const char *cert;	/* client certificate, or NULL */
	const char *key;	/* its key, or NULL */
	bool insecure;		/* skip TLS verification (warns) */
	bool debug;		/* log every exchange at CB_LOG_DEBUG, masked */
	unsigned int retries;	/* extra attempts; see CB_HTTP_RETRIES */
	unsigned int backoff_ms; /* first delay, doubled each time */
};

#define CB_HTTP_RETRIES 3
#define CB_HTTP_BACKOFF_MS 500

struct cb_http_req {
	const char *what;	/* "create attachment for volume X": starts errors */
	const char *method;	/* GET, POST, PUT, DELETE */
	const char *url;
	const json_t *body;	/* sent as JSON; NULL for none */
	const char *token;	/* X-Auth-Token, or NULL */
	const char *api_version; /* OpenStack-API-Version value, or NULL */
	const char *want_header; /* response header to capture, or NULL */
};

struct cb_http_resp {
	long status;		/* 0 when no answer came */
	json_t *body;		/* parsed JSON, NULL when the body was empty */
	char *header;		/* value of req->want_header, or NULL */
};

struct cb_http *cb_http_new(const struct cb_http_opts *opts);
void cb_http_free(struct cb_http *h);

/* Performs the request, retrying as above.  Returns 0 for statuses below
 * 400.  Otherwise -1 with the error set to "<what>: <the server's fault
 * text> (HTTP <status>, <method> <url>)" or the transport error, and
 * resp->status set when an answer came (callers test for 404 and 401).
 * Free resp with cb_http_resp_free() in both cases. */
int cb_http_do(struct cb_http *h, const struct cb_http_req *req,
	       struct cb_http_resp *resp);
void cb_http_resp_free(struct cb_http_resp *resp);

/* The retry policy, exposed for tests.  curl_code is CURLE_OK when an
 * HTTP answer came, and status is then its code. */
bool cb_http_should_retry(const char *method, CURLcode curl_code, long status);

/* The errno that best describes an HTTP status (404 -> ENOENT, ...). */
int cb_http_status_errno(long status);

/* Percent-encodes everything but RFC 3986 unreserved characters, for
 * IDs and names in paths and query strings.  NULL on ENOMEM. */
char *cb_url_escape(const char *s);

#endif
