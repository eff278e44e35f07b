/* sa: length-counted growable strings (stralloc/vstring style).
 * Every successful operation leaves s[len] == '\0' so s can be used as a C string
 * when the contents hold no NUL. Results: 0 success, -1 failure with errno set
 * (ENOMEM, or ERANGE when a size would pass SA_MAX or wrap). */
#ifndef POCHTA_SA_H
#define POCHTA_SA_H
#include <stddef.h>
#include <stdarg.h>

#define SA_MAX ((size_t)1 << 30) /* hard ceiling for any one string: 1 GiB */

typedef struct sa {
	char *s;
	size_t len;
	size_t cap;
} sa_t;

#define SA_INIT { 0, 0, 0 }

int sa_ready(sa_t *sa, size_t extra);          /* room for len+extra+1 bytes */
int sa_catb(sa_t *sa, const void *p, size_t n);
int sa_cats(sa_t *sa, const char *s);
int sa_catc(sa_t *sa, char c);
int sa_catu(sa_t *sa, unsigned long long u);   /* decimal */
int sa_catf(sa_t *sa, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sa_vcatf(sa_t *sa, const char *fmt, va_list ap);
int sa_copyb(sa_t *sa, const void *p, size_t n);
int sa_copys(sa_t *sa, const char *s);
void sa_trunc(sa_t *sa, size_t len);           /* len <= sa->len */
void sa_free(sa_t *sa);

/* overflow-checked size arithmetic: 0 ok, -1 with errno ERANGE */
int size_add(size_t a, size_t b, size_t *out);
int size_mul(size_t a, size_t b, size_t *out);

#endif
