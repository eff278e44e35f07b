/* dresult: per-recipient delivery results, one record each (see dresult.h). */
#include <errno.h>
#include <string.h>
#include "dresult.h"
#include "dsn.h"
#include "rec.h"
#include "text.h"

/* "x.y.z" filling all of s[0..len) */
static int status_valid(const char *s, size_t len)
{
	return len > 0 && dsn_status_len(s, len) == len;
}

/* the status class digit each result class must carry */
static char class_digit(char class)
{
	switch (class) {
	case 'D': return '2';
	case 'T': return '4';
	case 'P': return '5';
	}
	return 0;
}

/* the record's data: "<index> <class> <status> <text>" */
static int dresult_data(sa_t *rec, size_t index, char class, const char *status, const char *text)
{
	size_t slen, i, n;

	slen = status ? strlen(status) : 0;
	if (!class_digit(class) || !status_valid(status, slen) || status[0] != class_digit(class)) {
		errno = EINVAL;
		return -1;
	}
	if (!text)
		text = "";
	n = strlen(text);
	if (n > DRESULT_TEXT_MAX)
		n = DRESULT_TEXT_MAX;
	if (sa_catu(rec, index) < 0 || sa_catc(rec, ' ') < 0 || sa_catc(rec, class) < 0 ||
	    sa_catc(rec, ' ') < 0 || sa_catb(rec, status, slen) < 0 || sa_catc(rec, ' ') < 0 ||
	    sa_ready(rec, n) < 0)
		return -1;
	/* network text: what is not safe to show (CR, LF, TAB, NUL, C1 controls,
	 * bytes that are not UTF-8) becomes a space; the text reaches bounces,
	 * `queue list` and its JSON */
	for (i = 0; i < n;) {
		const unsigned char *t = (const unsigned char *)text + i;
		size_t k = text_safe_len(t, n - i);
		if (k) {
			memcpy(rec->s + rec->len, t, k);
			rec->len += k;
		} else {
			rec->s[rec->len++] = ' ';
			k = text_unsafe_len(t, n - i);
		}
		i += k;
	}
	rec->s[rec->len] = '\0';
	return 0;
}

int dresult_cat(sa_t *out, size_t index, char class, const char *status, const char *text)
{
	sa_t rec = SA_INIT;
	int r = dresult_data(&rec, index, class, status, text);

	if (r == 0)
		r = rec_cat(out, DRESULT_REC, rec.s, rec.len);
	sa_free(&rec);
	return r;
}

int dresult_put(io_t *out, size_t index, char class, const char *status, const char *text)
{
	sa_t rec = SA_INIT;
	int r = dresult_cat(&rec, index, class, status, text);

	if (r == 0)
		r = io_put(out, rec.s, rec.len);
	sa_free(&rec);
	return r;
}

int dresult_parse(const char *data, size_t len, struct dresult *r)
{
	size_t i = 0, idx = 0, st, stlen, j;

	/* index: decimal, no sign, no leading zeros except "0", overflow-checked */
	if (len == 0 || data[0] < '0' || data[0] > '9' || (data[0] == '0' && len > 1 && data[1] != ' '))
		goto bad;
	while (i < len && data[i] >= '0' && data[i] <= '9') {
		if (size_mul(idx, 10, &idx) < 0 || size_add(idx, (size_t)(data[i] - '0'), &idx) < 0)
			goto bad;
		i++;
	}
	if (i + 3 > len || data[i] != ' ' || !class_digit(data[i + 1]) || data[i + 2] != ' ')
		goto bad;
	r->class = data[i + 1];
	i += 3;
	st = i;
	while (i < len && data[i] != ' ')
		i++;
	stlen = i - st;
	if (stlen >= sizeof r->status || !status_valid(data + st, stlen) ||
	    data[st] != class_digit(r->class))
		goto bad;
	if (i < len)
		i++; /* the space before the text */
	if (len - i > DRESULT_TEXT_MAX)
		goto bad;
	/* exactly what dresult_put writes: text that is safe to show */
	for (j = i; j < len;) {
		size_t k = text_safe_len((const unsigned char *)data + j, len - j);
		if (!k)
			goto bad;
		j += k;
	}
	if (sa_copyb(&r->text, data + i, len - i) < 0)
		return -1;
	memcpy(r->status, data + st, stlen);
	r->status[stlen] = '\0';
	r->index = idx;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}
