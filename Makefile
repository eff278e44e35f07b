# pochta: GNU make. `make` builds into build/, `make check` runs every test twice
# (plain, then with AddressSanitizer and UndefinedBehaviorSanitizer in build/asan).

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror
DEFS     = -D_GNU_SOURCE
LDLIBS   = -lcrypt -lresolv
PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build
SAN     ?=
# TLS=openssl: also pochta-tls, the one program linked with OpenSSL (libssl-dev)
TLS     ?=
# the release, from one place: `pochtactl --version` prints it
VERSION := $(shell cat VERSION)

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ALL_CFLAGS  = $(WARN) $(DEFS) $(CFLAGS) $(SANFLAGS) -Icommon -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# program name: source files (each program's sources share a prefix in its directory)
SRC_pochta-smtpd    = $(filter-out smtpd/tls%,$(wildcard smtpd/*.c))
SRC_pochta-tls      = $(if $(filter openssl,$(TLS)),$(wildcard smtpd/tls*.c))
SRC_pochta-pop3d    = $(filter-out pop3d/checkpass%,$(wildcard pop3d/*.c))
SRC_pochta-checkpass = $(wildcard pop3d/checkpass*.c)
SRC_pochta-enqueue  = $(wildcard queue/enqueue*.c)
SRC_pochta-qmgr     = $(wildcard queue/qmgr*.c)
SRC_pochtactl       = $(wildcard queue/ctl*.c)
SRC_pochta-sendmail = $(wildcard queue/sendmail*.c)
SRC_pochta-local    = $(wildcard deliver/local*.c)
SRC_pochta-remote   = $(wildcard deliver/remote*.c)
SRC_pochta-master   = $(wildcard queue/master*.c)
PROGNAMES = pochta-smtpd pochta-pop3d pochta-checkpass pochta-enqueue pochta-qmgr pochtactl \
            pochta-sendmail pochta-local pochta-remote pochta-master pochta-tls
# only the programs that have sources so far
PROGS = $(foreach p,$(PROGNAMES),$(if $(SRC_$(p)),$(B)/$(p)))

LIB_SRC = $(wildcard common/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB     = $(B)/libpochta.a

TEST_SRC  = $(wildcard */tests/test_*.c)
TEST_BINS = $(foreach t,$(TEST_SRC),$(B)/tests/$(basename $(notdir $(t))))

.PHONY: all check unit run clean install uninstall fuzz bench
all: $(PROGS) $(TEST_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/obj/queue/ctl.o: VERSION
$(B)/obj/queue/ctl.o: ALL_CFLAGS += -DPOCHTA_VERSION='"$(VERSION)"'

define PROG_RULE
$(B)/$(1): $$(SRC_$(1):%.c=$(B)/obj/%.o) $(LIB)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGNAMES),$(eval $(call PROG_RULE,$(p))))
$(B)/pochta-tls: LDLIBS += -lssl -lcrypto

define TEST_RULE
$(B)/tests/$(basename $(notdir $(1))): $(B)/obj/$(1:.c=.o) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call TEST_RULE,$(t))))

-include $(LIB_OBJ:.o=.d) $(wildcard $(B)/obj/*/*.d $(B)/obj/*/*/*.d)

# every test, plain then sanitized; the last line is "N passed, N failed"
# (with clang, the fuzz harnesses too: each runs a few seconds from its seeds)
# (with libssl-dev, the TLS build too: tests/test_tls.py on build/tls and
# build/tls-asan; without it those tests skip with a message)
check:
	$(MAKE) B=build
	$(MAKE) B=build/asan SAN=1
	FUZZ_OUT=build/fuzz sh tests/fuzz/build.sh 0
	@extra=; if [ -e /usr/include/openssl/ssl.h ]; then \
		$(MAKE) B=build/tls TLS=openssl && $(MAKE) B=build/tls-asan SAN=1 TLS=openssl || exit 1; \
		extra="--extra build/tls=test_tls --extra build/tls-asan=test_tls"; \
	else echo "make check: no libssl-dev (/usr/include/openssl/ssl.h): the TLS build is not tested"; fi; \
	python3 tests/run.py --fuzz build/fuzz $$extra build build/asan

# only the C unit tests of one build
unit: all
	python3 tests/run.py --unit-only $(B)

# the programs only: no unit tests, no fuzz harnesses
run: $(PROGS)
	sh tests/lib/make-run.sh $(B)

fuzz:
	sh tests/fuzz/build.sh

bench: all
	sh tests/bench/run.sh $(B)

# Installed layout (DESTDIR is prepended to each path; /etc/pochta is not under
# PREFIX). The programs find each other at run time (/proc/self/exe; see
# common/paths.h), so a build made with one PREFIX installs under any other.
SBINDIR     = $(PREFIX)/sbin
LIBEXECDIR  = $(PREFIX)/libexec/pochta
MANDIR      = $(PREFIX)/share/man
SHAREDIR    = $(PREFIX)/share/pochta
ETCDIR      = /etc/pochta
QUEUE_GROUP ?= pochta
SBIN_PROGS    = $(filter %/pochtactl %/pochta-sendmail,$(PROGS))
LIBEXEC_PROGS = $(filter-out $(SBIN_PROGS),$(PROGS))
MAN5 = $(wildcard man/*.5)
MAN8 = $(wildcard man/*.8)
UNITS = $(wildcard etc/systemd/*.service etc/systemd/*.socket)
SHARE_FILES = $(UNITS:etc/systemd/%=%) inetd.conf pochta.conf.sample
INSTALL ?= install

install: $(PROGS)
	$(INSTALL) -d -m 755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(ETCDIR)
	$(INSTALL) -m 755 $(SBIN_PROGS) $(DESTDIR)$(SBINDIR)/
	@# mailq is pochta-sendmail -bp; /usr/sbin/sendmail is the admin's (INSTALL)
	ln -sf pochta-sendmail $(DESTDIR)$(SBINDIR)/mailq
	$(INSTALL) -m 755 $(LIBEXEC_PROGS) $(DESTDIR)$(LIBEXECDIR)/
	@# pochta-enqueue is the queue's only way in from pochta-smtpd: setgid to the queue group
	@e=$(DESTDIR)$(LIBEXECDIR)/pochta-enqueue; \
	if [ ! -f $$e ]; then :; \
	elif [ "$$(id -u)" = 0 ] && getent group $(QUEUE_GROUP) >/dev/null; then \
		chgrp $(QUEUE_GROUP) $$e && chmod 2755 $$e && echo "make install: $$e setgid $(QUEUE_GROUP)"; \
	else \
		echo "make install: $$e is NOT setgid (group $(QUEUE_GROUP) missing or not root):" \
		     "'pochtactl setup' (as root) makes it so" >&2; \
	fi
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	@set -e; for f in $(UNITS) etc/inetd.conf.sample; do \
		n=$$(basename $$f .sample); \
		sed 's|@PREFIX@|$(PREFIX)|g' $$f > $(DESTDIR)$(SHAREDIR)/$$n.tmp; \
		chmod 644 $(DESTDIR)$(SHAREDIR)/$$n.tmp; \
		mv -f $(DESTDIR)$(SHAREDIR)/$$n.tmp $(DESTDIR)$(SHAREDIR)/$$n; \
		echo "installed $(DESTDIR)$(SHAREDIR)/$$n"; \
	done
	$(INSTALL) -m 644 etc/pochta.conf.sample $(DESTDIR)$(SHAREDIR)/pochta.conf.sample
	@# the admin's configuration is never overwritten
	@c=$(DESTDIR)$(ETCDIR)/pochta.conf; \
	if [ -e $$c ]; then echo "make install: $$c exists, left as it is (new sample: $(DESTDIR)$(SHAREDIR)/pochta.conf.sample)"; \
	else $(INSTALL) -m 644 etc/pochta.conf.sample $$c && echo "installed $$c"; fi

# removes what install put under PREFIX; never the configuration in /etc/pochta,
# the queue or the mailboxes
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(SBIN_PROGS))) $(DESTDIR)$(SBINDIR)/mailq \
	      $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(LIBEXEC_PROGS))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
	      $(addprefix $(DESTDIR)$(SHAREDIR)/,$(SHARE_FILES))
	rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SHAREDIR) 2>/dev/null || true
	@echo "make uninstall: $(DESTDIR)$(ETCDIR), the queue and the mailboxes are left in place"

clean:
	rm -rf build
