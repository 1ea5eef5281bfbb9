# libFuzzer targets (tests/fuzz/fuzz_<name>.c).  Included by ../Makefile.
#
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="json jwt"]   clang + libFuzzer, ASan, UBSan
#   make unit                                            also replays every committed
#                                                        corpus and regression input
#                                                        (gcc, no clang needed)

FUZZ_TARGETS ?= json sig_tv1 sig_hash webhook_events jwt router query momo metrics settle
FUZZ_TIME    ?= 60
FUZZ_CC      ?= $(or $(shell command -v clang 2>/dev/null),clang-14)
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter $(FUZZ_SAN) \
                $(APR_CFLAGS) -Imod_tipzed -Itests/fuzz
FUZZ_OBJS    := $(patsubst mod_tipzed/%.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_HDRS    := tests/fuzz/fuzz_common.h tests/fuzz/fuzz_keys.h

# The regression replay: each target's LLVMFuzzerTestOneInput with a plain
# main() over tests/fuzz/corpus/<t>/ and tests/fuzz/regressions/<t>/.
REPLAY_BINS  := $(patsubst %,$(BUILD)/fuzz-replay/replay_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-deps fuzz-bins

$(BUILD)/fuzz-replay/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -Itests/fuzz \
	  -DTZ_REPLAY_DIRS='"$(CURDIR)/tests/fuzz/corpus/$*:$(CURDIR)/tests/fuzz/regressions/$*"' \
	  -o $@ $< tests/fuzz/replay.c $(CORE_LIB) $(EXT_LIBS) $(APR_LIBS) $(SAN_FLAGS)

# clang and its libFuzzer runtime (Debian: clang-14, libclang-rt-14-dev);
# installed as root, named otherwise.  Not a dependency of `make test`.
fuzz-deps:
	@missing=""; for p in clang-14 libclang-rt-14-dev; do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null)" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "make fuzz needs:$$missing -- install with: sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	  echo "fuzz: installing$$missing"; apt-get install -y -q$$missing >/dev/null || exit 1; \
	fi

$(FUZZ_DIR)/obj/%.o: mod_tipzed/%.c mod_tipzed/tz_*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(EXT_LIBS) $(APR_LIBS)

fuzz-bins: $(FUZZ_BINS)

# One target at a time, FUZZ_TIME seconds each; fails if any target crashed.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@FUZZ_DIR=$(FUZZ_DIR) tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)
