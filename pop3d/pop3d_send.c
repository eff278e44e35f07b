/* pop3d_send: RETR and TOP. The file is streamed through the encoder in
 * common/pop3cmd.c (CRLF line ends, dot-stuffing, TOP's limit), the same one
 * that computed the size LIST announced, so the two always agree. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "pop3d.h"

#define CHUNK 16384

int send_msg(struct sess *s, const struct msg *m, unsigned long long top)
{
	static char in[CHUNK], out[2 * CHUNK + 2];
	struct pop3_wire w;
	struct stat st;
	int fd;
	size_t o;

	fd = openat(s->box.dirfd, m->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_warn(NULL, "cannot open message user=%s file=%s: %s", s->user, m->file,
		         fd < 0 ? "open failed" : "not a regular file");
		if (fd >= 0)
			close(fd);
		return io_puts(&s->out, "-ERR [SYS/TEMP] cannot read this message\r\n") < 0 ? -1 : 1;
	}
	if (top == POP3_WIRE_ALL) {
		if (io_printf(&s->out, "+OK %llu octets\r\n", m->octets) < 0)
			goto fail;
	} else if (io_puts(&s->out, "+OK top of message follows\r\n") < 0) {
		goto fail;
	}
	pop3_wire_init(&w, 1, top);
	while (!pop3_wire_done(&w)) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* +OK is out: the only honest thing left is to drop the
			 * connection, which removes nothing */
			log_warn(NULL, "read error user=%s file=%s", s->user, m->file);
			goto fail;
		}
		if (r == 0)
			break;
		o = pop3_wire_put(&w, in, (size_t)r, out);
		if (io_put(&s->out, out, o) < 0)
			goto fail;
	}
	o = pop3_wire_end(&w, out);
	if (io_put(&s->out, out, o) < 0 || io_puts(&s->out, ".\r\n") < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}
