/* qmgr_dest: destinations, one per remote domain. A destination counts its
 * running pochta-remote batches (for destination_concurrency) and remembers
 * whether its servers answer: after a run in which nothing could be reached
 * (every recipient 4.4.x) the whole domain is backed off, retry_min doubled per
 * further such run up to retry_max, so that its other messages wait instead of
 * each paying the timeouts. Any answer from a server ends the backoff. Kept in
 * memory only: after a restart the first failure backs a domain off again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "log.h"
#include "qmgr.h"

#define DEST_BUCKETS 4096

static struct dest *dbuckets[DEST_BUCKETS];

static unsigned dest_hash(const char *s, size_t len)
{
	unsigned h = 5381;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = h * 33 + c;
	}
	return h % DEST_BUCKETS;
}

struct dest *dest_find(const char *domain)
{
	size_t len = strlen(domain);

	for (struct dest *d = dbuckets[dest_hash(domain, len)]; d; d = d->hnext)
		if (strlen(d->name) == len && strncasecmp(d->name, domain, len) == 0)
			return d;
	return NULL;
}

struct dest *dest_get(const char *domain, size_t len)
{
	unsigned h = dest_hash(domain, len);
	struct dest *d;

	for (d = dbuckets[h]; d; d = d->hnext)
		if (strlen(d->name) == len && strncasecmp(d->name, domain, len) == 0) {
			d->refs++;
			return d;
		}
	d = calloc(1, sizeof *d);
	if (!d || !(d->name = malloc(len + 1))) {
		free(d);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = domain[i];
		d->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	d->name[len] = '\0';
	d->refs = 1;
	d->hnext = dbuckets[h];
	dbuckets[h] = d;
	return d;
}

static void dest_destroy(struct dest *d)
{
	free(d->name);
	free(d->text);
	free(d->q.v);
	free(d);
}

void dest_release(struct dest *d)
{
	struct dest **pp;

	if (d->refs || d->running || d->active || d->q.len)
		return;
	for (pp = &dbuckets[dest_hash(d->name, strlen(d->name))]; *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	dest_destroy(d);
}

void dest_unref(struct dest *d)
{
	if (d->refs)
		d->refs--;
	dest_release(d);
}

static long long dest_backoff(unsigned fails)
{
	long long t = Q.conf.retry_min, max = Q.conf.retry_max;

	if (max < t)
		max = t;
	for (unsigned i = 1; i < fails && t < max; i++)
		t *= 2;
	return t < max ? t : max;
}

void dest_done(struct dest *d, long long started, int unreachable, int answered,
               const char *status, const char *text)
{
	if (d->running)
		d->running--;
	if (answered) {
		if (d->fails || d->until)
			log_info(NULL, "domain=%s backoff=cleared", d->name);
		d->fails = 0;
		d->until = 0;
		d->last_fail = 0;
	} else if (unreachable) {
		char *t = strdup(text ? text : "");
		if (t) {
			free(d->text);
			d->text = t;
		}
		snprintf(d->status, sizeof d->status, "%s", status && *status ? status : "4.4.1");
		/* runs that were under way when the last failure was counted say
		 * nothing new: count only those started after it */
		if (d->last_fail == 0 || started > d->last_fail) {
			long long wait;
			if (d->fails < 64)
				d->fails++;
			d->last_fail = Q.now;
			wait = dest_backoff(d->fails);
			d->until = Q.now + wait;
			log_info(NULL, "domain=%s backoff=%llds failures=%u reason=\"%s %s\"", d->name, wait,
			         d->fails, d->status, d->text ? d->text : "");
		}
	}
	dest_release(d);
}

void dest_flush(void)
{
	for (size_t b = 0; b < DEST_BUCKETS; b++)
		for (struct dest *d = dbuckets[b]; d; d = d->hnext)
			d->until = 0;
}

void dest_free_all(void)
{
	for (size_t b = 0; b < DEST_BUCKETS; b++) {
		struct dest *d = dbuckets[b], *next;
		for (; d; d = next) {
			next = d->hnext;
			dest_destroy(d);
		}
		dbuckets[b] = NULL;
	}
}
