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

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ALL_CFLAGS  = $(WARN) $(DEFS) $(CFLAGS) $(SANFLAGS) -Icommon -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# program name: source files (each program's sources share a prefix in its directory)
SRC_pochta-smtpd    = $(wildcard smtpd/*.c)
SRC_pochta-pop3d    = $(wildcard pop3d/*.c)
SRC_pochta-enqueue  = $(wildcard queue/enqueue*.c)
SRC_pochta-qmgr     = $(wildcard queue/qmgr*.c)
SRC_pochtactl       = $(wildcard queue/ctl*.c)
SRC_pochta-sendmail = $(wildcard queue/sendmail*.c)
SRC_pochta-local    = $(wildcard deliver/local*.c)
SRC_pochta-remote   = $(wildcard deliver/remote*.c)
SRC_pochta-master   = $(wildcard queue/master*.c)
PROGNAMES = pochta-smtpd pochta-pop3d pochta-enqueue pochta-qmgr pochtactl \
            pochta-sendmail pochta-local pochta-remote pochta-master
# only the programs that have sources so far
PROGS = $(foreach p,$(PROGNAMES),$(if $(SRC_$(p)),$(B)/$(p)))

LIB_SRC = $(wildcard common/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB     = $(B)/libpochta.a

TEST_SRC  = $(wildcard */tests/test_*.c)
TEST_BINS = $(foreach t,$(TEST_SRC),$(B)/tests/$(basename $(notdir $(t))))

.PHONY: all check unit run clean install fuzz bench
all: $(PROGS) $(TEST_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

define PROG_RULE
$(B)/$(1): $$(SRC_$(1):%.c=$(B)/obj/%.o) $(LIB)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGNAMES),$(eval $(call PROG_RULE,$(p))))

define TEST_RULE
$(B)/tests/$(basename $(notdir $(1))): $(B)/obj/$(1:.c=.o) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call TEST_RULE,$(t))))

-include $(LIB_OBJ:.o=.d) $(wildcard $(B)/obj/*/*.d $(B)/obj/*/*/*.d)

# every test, plain then sanitized; the last line is "N passed, N failed"
# (with clang, the fuzz harnesses too: each runs a few seconds from its seeds)
check:
	$(MAKE) B=build
	$(MAKE) B=build/asan SAN=1
	FUZZ_OUT=build/fuzz sh tests/fuzz/build.sh 0
	python3 tests/run.py --fuzz build/fuzz build build/asan

# only the C unit tests of one build
unit: all
	python3 tests/run.py --unit-only $(B)

run: all
	sh tests/lib/make-run.sh $(B)

fuzz:
	sh tests/fuzz/build.sh

bench: all
	sh tests/bench/run.sh $(B)

# Installing needs the system users and the setgid queue group of the
# privilege-separation work; until that lands, say so instead of half-installing.
install:
	@echo "make install: not available yet; run pochta as an instance (see INSTALL)" >&2
	@exit 1

clean:
	rm -rf build
