/* pochta-pop3d: reading the client's lines under a deadline. */
#include <errno.h>
#include "log.h"
#include "pop3d.h"

int pop3d_line(struct sess *s, sa_t *line, size_t max, const char *state)
{
	unsigned long long pos = 0;
	int r, partial;

	/* the deadline runs from the previous reply, once it is sent (a client
	 * that does not read it fails here, after pop3_timeout) */
	if (s->in.start == s->in.end && io_flush(&s->out) < 0) {
		r = IO_EOF;
	} else {
		pos = s->in.pos;
		io_deadline(&s->in, s->timeout_ms);
		r = io_getline(&s->in, line, max, NULL);
		io_deadline(&s->in, -1);
		if (r == IO_OK || r == IO_TOOLONG)
			return r;
	}
	if (r == IO_ERR && errno == ETIMEDOUT) {
		partial = s->in.pos != pos || s->in.start != s->in.end;
		log_info(NULL, "timeout state=%s user=%s client=%s retr=%lu%s", state,
		         s->user[0] ? s->user : "-", s->client, s->retr,
		         partial ? " reason=incomplete-command" : "");
		if (partial)
			io_printf(&s->out, "-ERR [SYS/TEMP] command not completed within %d seconds,"
			          " closing\r\n", s->timeout_ms / 1000);
		else
			io_puts(&s->out, "-ERR [SYS/TEMP] idle timeout, closing\r\n");
	} else if (s->user[0]) {
		log_info(NULL, "disconnect user=%s client=%s retr=%lu dele=0", s->user, s->client,
		         s->retr);
	}
	return IO_EOF;
}
