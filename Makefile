# redmilter - one plain GNU Makefile (no autotools, no recursion into
# subdirectories).
#
# Sources are found by wildcard, so a new file is built without editing this
# file.  Each folder is one library (README.md, "Layout"):
#   policy/common/*.c     configuration, utilities  -> build/VARIANT/libcommon.a
#   policy/store/*.c      the stores (hiredis here)  -> libstore.a
#   policy/*.c            the rule engine            -> libpolicy.a
#   policy/ctl/*.c        redmilterctl               -> libctl.a, policy/redmilterctl
#   milter/*.c            libmilter glue, daemon     -> libmilterglue.a, milter/redmilter
#   tests/unit/test_*.c   one Check program each
#   tests/unit/*.c        (other files) helpers linked into every unit test
#   tests/fuzz/fuzz_*.c   one libFuzzer target each, always built with clang
#   tests/integration/*.sh run by tests/run after the unit tests
#
# Objects go to build/CC-std or build/CC-san-LIST, so gcc, clang and the
# sanitizer builds never mix.  A flags stamp in each of those directories
# recompiles everything when CC or the flags change (WERROR=1, CFLAGS=...).
# `make clean` removes build/ and the two programs.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
# The configuration file both programs read when not given -c; compiled in
# (CONF_DEFAULT_PATH in policy/common/conf.h).  It is part of the flags
# stamp below, so a build with another PREFIX or SYSCONFDIR recompiles.
CONF_PATH = $(SYSCONFDIR)/redmilter.conf
DEFS = -DCONF_DEFAULT_PATH=\"$(CONF_PATH)\"

CFLAGS ?= -O2 -g
WARN = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wvla \
       -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wpointer-arith
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong

WERROR ?= 0
ifeq ($(WERROR),1)
WERROR_FLAGS = -Werror
endif

# SANITIZE=1 means address,undefined; any other non-empty value but 0 is a
# list for -fsanitize= (SANITIZE=address,undefined, SANITIZE=thread).
SANITIZE ?=
ifeq ($(SANITIZE),1)
SAN := address,undefined
else ifeq ($(SANITIZE),0)
SAN :=
else
SAN := $(SANITIZE)
endif
ifneq ($(SAN),)
SAN_FLAGS = -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

ALL_CFLAGS = $(WARN) $(WERROR_FLAGS) $(HARDEN) $(SAN_FLAGS) $(DEFS) \
             $(CPPFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

PKG_CONFIG ?= pkg-config
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
HIREDIS_CFLAGS := $(shell $(PKG_CONFIG) --cflags hiredis 2>/dev/null)
HIREDIS_LIBS := $(shell $(PKG_CONFIG) --libs hiredis 2>/dev/null)
MILTER_LIBS = -lmilter -pthread

comma := ,
CCNAME := $(notdir $(firstword $(CC)))
ifneq ($(SAN),)
VARIANT := $(CCNAME)-san-$(subst $(comma),-,$(SAN))
else
VARIANT := $(CCNAME)-std
endif
B := build/$(VARIANT)

# --- sources --------------------------------------------------------------
# One folder, one library, from $(wildcard DIR/*.c); README's layout table
# and `make check-layering` (tests/check-layering) say what each may use.

COMMON_SRCS := $(wildcard policy/common/*.c)
STORE_SRCS := $(wildcard policy/store/*.c)
POLICY_SRCS := $(wildcard policy/*.c)
CTL_SRCS := $(wildcard policy/ctl/*.c)
MILTER_SRCS := $(wildcard milter/*.c)
LIB_DIRS := policy/common policy/store policy policy/ctl milter
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_HELPER_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
# tests/integration/NAME.c: a Check program that needs a live service, run by
# tests/integration/NAME.sh (which starts the service) as $(B)/tests/integration/NAME
IT_SRCS := $(wildcard tests/integration/*.c)

COMMON_LIB := $(B)/libcommon.a
STORE_LIB := $(B)/libstore.a
POLICY_LIB := $(B)/libpolicy.a
CTL_LIB := $(B)/libctl.a
MILTER_LIB := $(B)/libmilterglue.a
UNIT_HELPER_LIB := $(B)/libtesthelp.a

UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
IT_BINS := $(IT_SRCS:%.c=$(B)/%)

PROGRAMS := policy/redmilterctl milter/redmilter

# Every folder's headers are on the include path: which file may include
# which is `make check-layering`'s to say, not the compiler's.
INCLUDES = $(LIB_DIRS:%=-I%)

# The libraries below a program, the highest first, as the linker wants them.
ENGINE_LIBS = $(POLICY_LIB) $(STORE_LIB) $(COMMON_LIB)
# Unit tests may use any library; an archive member is linked only when a
# test needs it.
UNIT_LIBS = $(UNIT_HELPER_LIB) $(MILTER_LIB) $(CTL_LIB) $(ENGINE_LIBS)
UNIT_LDLIBS = $(MILTER_LIBS) $(HIREDIS_LIBS) $(CHECK_LIBS) $(LDLIBS)

# --- fuzzing (clang + libFuzzer, its own build directory) ----------------

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_ALL_CFLAGS = $(WARN) $(WERROR_FLAGS) $(FUZZ_SAN) -fno-omit-frame-pointer \
                  $(CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP
FB := build/fuzz
FUZZ_ENGINE_OBJS := $(POLICY_SRCS:%.c=$(FB)/%.o) $(STORE_SRCS:%.c=$(FB)/%.o) \
                    $(COMMON_SRCS:%.c=$(FB)/%.o)
FUZZ_OBJS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FB)/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FB)/%)
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 5

# --- test runner ------------------------------------------------------------

TEST_PREFIX ?=
# libFuzzer targets carry their own sanitizers and cannot run under
# valgrind, so they get TEST_PREFIX only when it is not valgrind.
FUZZ_PREFIX ?= $(if $(findstring valgrind,$(TEST_PREFIX)),,$(TEST_PREFIX))
RUN_ENV = BUILDDIR='$(B)' FUZZDIR='$(FB)' TEST_PREFIX='$(TEST_PREFIX)' \
          FUZZ_PREFIX='$(FUZZ_PREFIX)' FUZZ_CHECK_SECONDS='$(FUZZ_CHECK_SECONDS)' \
          $(if $(CK_FORK),CK_FORK='$(CK_FORK)') \
          $(if $(SAN),CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-4} \
            SANITIZER='$(SAN)')
VALGRIND = valgrind --error-exitcode=99 --leak-check=full \
           --suppressions=$(CURDIR)/tests/valgrind.supp

# --- lint -------------------------------------------------------------------

LINT_SRCS := $(COMMON_SRCS) $(STORE_SRCS) $(POLICY_SRCS) $(CTL_SRCS) $(MILTER_SRCS)
FORMAT_SRCS := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.[ch])) \
                      $(wildcard tests/*/*.[ch]))
BANNED = strcpy|strcat|sprintf|vsprintf|gets|strncpy|strtok|atoi|atol
# No function of the programs longer than this, braces included (tests/
# excepted): split it instead.
FUNC_LINES_MAX = 50
# variableScope is suppressed: KNF declares a function's variables at its top
# (style(9)), and cppcheck's advice to move each into its innermost block
# fights that on nearly every function.
CPPCHECK = cppcheck --enable=warning,style,performance,portability \
           --error-exitcode=1 --inline-suppr --quiet --std=c11 \
           --suppress=variableScope -D_DEFAULT_SOURCE $(INCLUDES)
# The clang-tidy checks, less the analyzer's Annex K advice (memcpy_s
# and friends, which glibc does not have): it flags every memcpy and memset.
TIDY_CHECKS = -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,cert-*,portability-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling

MAN_PAGES := milter/redmilter.8 milter/redmilter.conf.5 policy/ctl/redmilterctl.8
CONF_EXAMPLE := contrib/redmilter.conf

.PHONY: all build-tests build-fuzz build-bench bench check check-unit deps \
        fuzz stress valgrind \
        install uninstall deb clean lint format format-check check-layering \
        compdb demo FORCE
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

all: $(PROGRAMS)

build-tests: $(UNIT_BINS) $(IT_BINS) $(B)/tests/bench/loadgen

build-fuzz: $(FUZZ_BINS)

# --- flags stamps -------------------------------------------------------
# Rewritten only when their text changes (git's GIT-CFLAGS), so objects are
# rebuilt after a change of CC or flags, and the in-tree programs are relinked
# when the last build used another variant directory.

$(B)/.flags: FORCE
	@mkdir -p $(@D); \
	f='$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LDLIBS)'; \
	if [ "$$f" != "$$(cat $@ 2>/dev/null)" ]; then printf '%s\n' "$$f" >$@; fi

$(FB)/.flags: FORCE
	@mkdir -p $(@D); \
	f='$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) $(LDFLAGS) $(LDLIBS)'; \
	if [ "$$f" != "$$(cat $@ 2>/dev/null)" ]; then printf '%s\n' "$$f" >$@; fi

build/.variant: FORCE
	@mkdir -p $(@D); \
	if [ '$(B)' != "$$(cat $@ 2>/dev/null)" ]; then echo '$(B)' >$@; fi

# --- compiling ----------------------------------------------------------------

need_hiredis = $(if $(HIREDIS_LIBS),,$(error hiredis not found by pkg-config: run tests/deps.sh))
need_check = $(if $(CHECK_LIBS),,$(error Check not found by pkg-config: run tests/deps.sh))

$(B)/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread $(INCLUDES) $(EXTRA_CFLAGS) -c -o $@ $<

$(STORE_SRCS:%.c=$(B)/%.o) $(IT_SRCS:%.c=$(B)/%.o): EXTRA_CFLAGS = $(need_hiredis)$(HIREDIS_CFLAGS)
$(B)/tests/unit/%.o $(B)/tests/integration/%.o: EXTRA_CFLAGS += $(need_check)$(CHECK_CFLAGS)

$(B)/%.a:
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(COMMON_LIB): $(COMMON_SRCS:%.c=$(B)/%.o)
$(STORE_LIB): $(STORE_SRCS:%.c=$(B)/%.o)
$(POLICY_LIB): $(POLICY_SRCS:%.c=$(B)/%.o)
$(CTL_LIB): $(CTL_SRCS:%.c=$(B)/%.o)
$(MILTER_LIB): $(MILTER_SRCS:%.c=$(B)/%.o)
$(UNIT_HELPER_LIB): $(UNIT_HELPER_SRCS:%.c=$(B)/%.o)

# --- linking ------------------------------------------------------------------
# A program's main() is a member of its folder's library (redmilterctl.c,
# redmilter.c), pulled in by the C start-up code's reference to main.

policy/redmilterctl: $(CTL_LIB) $(ENGINE_LIBS) build/.variant
	$(need_hiredis)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $(CTL_LIB) $(ENGINE_LIBS) \
	    $(HIREDIS_LIBS) $(LDLIBS)

milter/redmilter: $(MILTER_LIB) $(ENGINE_LIBS) build/.variant
	$(need_hiredis)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $(MILTER_LIB) $(ENGINE_LIBS) \
	    $(MILTER_LIBS) $(HIREDIS_LIBS) $(LDLIBS)

$(UNIT_BINS): $(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_LIBS)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $< $(UNIT_LIBS) $(UNIT_LDLIBS)

$(IT_BINS): $(B)/tests/integration/%: $(B)/tests/integration/%.o \
            $(ENGINE_LIBS)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $< $(ENGINE_LIBS) \
	    $(HIREDIS_LIBS) $(CHECK_LIBS) $(LDLIBS)

# --- benchmark programs (tests/bench; BENCHMARKS.md) ------------------------
# loadgen speaks the milter protocol itself (it needs libmilter's mfdef.h
# for the constants only); nullmilter is the do-nothing baseline milter,
# naivemilter the naive one (libmilter and a GET per envelope address with
# hiredis).  loadgen is built with the tests: tests/integration/loadgen.sh
# uses it.

BENCH_BINS := $(B)/tests/bench/loadgen $(B)/tests/bench/nullmilter \
              $(B)/tests/bench/naivemilter
# loadgen.c and its parts tests/bench/loadgen_*.c make one program.
LOADGEN_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tests/bench/loadgen.c \
                  tests/bench/loadgen_*.c))

$(B)/tests/bench/%.o: tests/bench/%.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread $(EXTRA_CFLAGS) -c -o $@ $<

$(B)/tests/bench/naivemilter.o: EXTRA_CFLAGS = $(need_hiredis)$(HIREDIS_CFLAGS)

$(B)/tests/bench/loadgen: $(LOADGEN_OBJS)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $(LOADGEN_OBJS) $(LDLIBS)

$(B)/tests/bench/nullmilter: $(B)/tests/bench/nullmilter.o
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $< $(MILTER_LIBS) $(LDLIBS)

$(B)/tests/bench/naivemilter: $(B)/tests/bench/naivemilter.o
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $< $(MILTER_LIBS) $(HIREDIS_LIBS) \
	    $(LDLIBS)

build-bench: $(BENCH_BINS)

# --- fuzz targets ---------------------------------------------------------
# Engine sources are compiled again with clang, coverage instrumentation
# (fuzzer-no-link) and ASan+UBSan.  LLVMFuzzerTestOneInput has no header to
# declare it, hence -Wno-missing-prototypes for the target files only.

$(FB)/policy/%.o: policy/%.c $(FB)/.flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) $(INCLUDES) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_OBJS): $(FB)/%.o: tests/fuzz/%.c $(FB)/.flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -Wno-missing-prototypes $(INCLUDES) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/libengine.a: $(FUZZ_ENGINE_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(FB)/%: $(FB)/%.o $(FB)/libengine.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(FB)/libengine.a $(LDLIBS)

# --- tests ----------------------------------------------------------------

# Installs missing Debian packages when run as root; fails naming them if not.
deps:
	bash tests/deps.sh

# Packages first, then a fresh make to build: the pkg-config results above
# are read when make starts, before tests/deps.sh could install anything.
check:
	bash tests/deps.sh
	$(MAKE) --no-print-directory all build-tests build-fuzz
	$(RUN_ENV) bash tests/run

# The fast inner loop: unit tests only, no services, no package check.
check-unit: build-tests
	$(RUN_ENV) bash tests/run unit

valgrind:
	$(MAKE) --no-print-directory check TEST_PREFIX='$(VALGRIND)' CK_FORK=no

# Grows tests/fuzz/corpus/NAME with the inputs that add coverage; commit them.
fuzz: build-fuzz
	FUZZDIR='$(FB)' FUZZ_SECONDS='$(FUZZ_SECONDS)' bash tests/fuzz/grow \
	    $(FUZZ_BINS)

# Several minutes: redmilter (cache on and off, 10k and 1M rules) against
# the do-nothing milter and the naive one, edit to effect, start-up, and
# Postfix with each, on this machine, loopback only (BENCHMARKS.md).  Its
# extra packages are in tests/bench/deps.sh, which `make check` never needs.
bench:
	bash tests/deps.sh
	bash tests/bench/deps.sh
	$(MAKE) --no-print-directory all build-bench
	BUILDDIR='$(B)' bash tests/bench/run.sh

# Minutes, not seconds, so not part of `make check` (RELIABILITY.md, item
# 4): 500 milter connections held open and busy, and 1,000,000 transactions
# with the milter's RSS flat.  Each tests/stress/*.sh prints TAP; any
# failure fails the target.  Loopback only, private Redis and milter.
stress:
	bash tests/deps.sh
	$(MAKE) --no-print-directory all build-tests
	@fail=0; for t in tests/stress/*.sh; do \
		echo "== $$t"; \
		$(RUN_ENV) bash "$$t" || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo 'stress: FAILED'; else echo 'stress: ok'; fi; \
	exit $$fail

# Try redmilter by hand: a private Redis loaded with contrib/rules.example,
# the milter and a private Postfix, on loopback ports; prints swaks commands
# and the replies to expect, then waits; Ctrl-C stops it all.  Run as root
# (Postfix); contrib/demo.sh installs the packages (tests/deps.sh) and runs
# make all first.
demo:
	bash contrib/demo.sh

# --- static checks ------------------------------------------------------------

# cppcheck, the banned functions (unbounded copies, atoi) and, when there is a
# compile_commands.json, clang-tidy; all three run before lint fails.
lint:
	@fail=0; \
	if [ -n '$(LINT_SRCS)' ]; then \
		echo '$(CPPCHECK) $(LINT_SRCS)'; \
		$(CPPCHECK) $(LINT_SRCS) || fail=1; \
	fi; \
	echo 'lint: banned functions: $(BANNED)'; \
	if grep -nE '(^|[^[:alnum:]_])($(BANNED))[[:space:]]*\(' \
	    $(FORMAT_SRCS) /dev/null; then \
		echo 'lint: banned function used (see above)' >&2; \
		fail=1; \
	fi; \
	echo 'lint: functions of more than $(FUNC_LINES_MAX) lines'; \
	if awk -v max=$(FUNC_LINES_MAX) ' \
	    FNR == 1 { start = 0 } \
	    /^[A-Za-z_][A-Za-z0-9_]*[(]/ { name = $$0 } \
	    /^[{]/ { start = FNR } \
	    /^[}]/ && start { if (FNR - start + 1 > max) { \
	        printf "%s:%d: %s: %d lines\n", FILENAME, start, name, \
	            FNR - start + 1; bad = 1 } start = 0 } \
	    END { exit !bad }' $(LINT_SRCS); then \
		echo 'lint: function too long (see above)' >&2; \
		fail=1; \
	fi; \
	if [ -f compile_commands.json ] && command -v clang-tidy >/dev/null; \
	then \
		echo 'clang-tidy -p . $(LINT_SRCS)'; \
		clang-tidy -p . --quiet --checks='$(TIDY_CHECKS)' \
		    --warnings-as-errors='*' $(LINT_SRCS) || fail=1; \
	else \
		echo 'lint: clang-tidy skipped: no compile_commands.json (make compdb)'; \
	fi; \
	exit $$fail

# compile_commands.json for clang-tidy and editors (needs bear).
compdb:
	rm -rf '$(B)'
	bear -- $(MAKE) --no-print-directory all build-tests

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

# The layout's rules: which folder may include which, hiredis and libmilter
# only in their files, no include cycle (tests/check-layering says them).
check-layering:
	@bash tests/check-layering

# --- install ------------------------------------------------------------------

install: all
	@set -e; \
	for p in $(PROGRAMS); do \
		install -d -m 0755 '$(DESTDIR)$(SBINDIR)'; \
		echo "install $$p $(DESTDIR)$(SBINDIR)/"; \
		install -m 0755 "$$p" '$(DESTDIR)$(SBINDIR)/'; \
	done; \
	for m in $(MAN_PAGES); do \
		d='$(DESTDIR)$(MANDIR)'/man"$${m##*.}"; \
		install -d -m 0755 "$$d"; \
		echo "install $$m $$d/ (default configuration $(CONF_PATH))"; \
		sed 's|/usr/local/etc/redmilter\.conf|$(CONF_PATH)|g' "$$m" \
		    >"$$d/$${m##*/}"; \
		chmod 0644 "$$d/$${m##*/}"; \
	done; \
	for c in $(CONF_EXAMPLE); do \
		t='$(DESTDIR)$(CONF_PATH)'; \
		if [ -e "$$t" ]; then \
			echo "keeping existing $$t"; \
		else \
			install -d -m 0755 '$(DESTDIR)$(SYSCONFDIR)'; \
			echo "install -m 0640 $$c $$t"; \
			install -m 0640 "$$c" "$$t"; \
			if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" -eq 0 ] && \
			    getent group redmilter >/dev/null; then \
				echo "chgrp redmilter $$t"; \
				chgrp redmilter "$$t"; \
			fi; \
		fi; \
	done

# The Debian package (debian/; INSTALL, "Installing the package"), built
# by dpkg-buildpackage in a copy of the tree under build/deb/src (its
# `debian/rules clean` would otherwise remove this build/), which writes the
# .deb, the -dbgsym .deb, .buildinfo and .changes to build/deb/; then
# lintian, which fails the target on any error.  Never runs the tests.
DEB_DIR = build/deb

deb:
	bash tests/deps.sh deb
	rm -rf '$(DEB_DIR)'
	mkdir -p '$(DEB_DIR)/src'
	tar -cf - --exclude=./build --exclude=./.git $(PROGRAMS:%=--exclude=./%) \
	    --exclude=./compile_commands.json . | tar -xf - -C '$(DEB_DIR)/src'
	cd '$(DEB_DIR)/src' && dpkg-buildpackage -us -uc -b
	rm -rf '$(DEB_DIR)/src'
	lintian --fail-on error '$(DEB_DIR)'/redmilter_*.changes
	@ls -l '$(DEB_DIR)'

# Leaves $(SYSCONFDIR)/redmilter.conf alone: it is the administrator's.
uninstall:
	@set -e; \
	for p in $(notdir $(PROGRAMS)); do \
		echo "rm -f $(DESTDIR)$(SBINDIR)/$$p"; \
		rm -f '$(DESTDIR)$(SBINDIR)'/"$$p"; \
	done; \
	for m in $(MAN_PAGES); do \
		f='$(DESTDIR)$(MANDIR)'/man"$${m##*.}"/"$${m##*/}"; \
		echo "rm -f $$f"; \
		rm -f "$$f"; \
	done

clean:
	rm -rf build policy/redmilterctl milter/redmilter

FORCE:

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(FB)/*.d $(FB)/*/*.d \
             $(FB)/*/*/*.d)
