# Build glue: how the core library, the Apache module (through apxs), the
# command-line tool and the unit tests are compiled.  Included by ../Makefile.

comma       := ,
APXS        ?= apxs
APR_CONFIG  ?= $(shell $(APXS) -q APR_CONFIG 2>/dev/null || echo apr-1-config)
APU_CONFIG  ?= $(shell $(APXS) -q APU_CONFIG 2>/dev/null || echo apu-1-config)
CC          ?= gcc

APR_CFLAGS  := $(shell $(APR_CONFIG) --cflags --cppflags --includes 2>/dev/null) \
               $(shell $(APU_CONFIG) --includes 2>/dev/null)
APR_LIBS    := $(shell $(APU_CONFIG) --link-ld --libs 2>/dev/null) \
               $(shell $(APR_CONFIG) --link-ld --libs 2>/dev/null)
PQ_INC      := -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)

WARN        := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
OPT         ?= -O2 -g
SAN_FLAGS   := $(if $(SANITIZE),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined,)
# The core (tz_*.c) is compiled without httpd's or libpq's include paths,
# so a core file that reached for an httpd type would not build: the
# boundary between the core and the glue is the build's, not a convention.
CORE_CFLAGS := $(WARN) $(OPT) -fPIC $(SAN_FLAGS) $(APR_CFLAGS) -Imod_tipzed
EXT_LIBS    := -ljwt -ljansson -lcurl -lssl -lcrypto -lpq

BUILD       := build/$(if $(SANITIZE),san,std)
CORE_SRCS   := $(sort $(wildcard mod_tipzed/tz_*.c))
GLUE_SRCS   := $(sort $(wildcard mod_tipzed/mod_tipzed*.c))
CORE_OBJS   := $(patsubst mod_tipzed/%.c,$(BUILD)/%.o,$(CORE_SRCS))
CORE_LIB    := $(BUILD)/libtipzed.a
MODULE      := $(BUILD)/mod_tipzed.so
CTL         := $(BUILD)/tipzedctl
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
CHECK_LIBS  := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

$(BUILD)/%.o: mod_tipzed/%.c mod_tipzed/tz_*.h
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

# apxs compiles the httpd glue and links it with the core library.
$(MODULE): $(GLUE_SRCS) $(CORE_LIB) mod_tipzed/*.h mod_tipzed/openapi.json
	@mkdir -p $(BUILD)/apxs
	cp $(GLUE_SRCS) mod_tipzed/*.h mod_tipzed/openapi.json $(BUILD)/apxs/
	cd $(BUILD)/apxs && $(APXS) -c -o mod_tipzed.so \
	  $(foreach f,$(WARN) $(OPT) $(SAN_FLAGS) $(PQ_INC),-Wc,$(f)) \
	  $(notdir $(GLUE_SRCS)) \
	  $(abspath $(CORE_LIB)) $(EXT_LIBS) \
	  > build.log 2>&1 || { cat build.log; exit 1; }
	@grep -E ': (warning|error):' $(BUILD)/apxs/build.log || true
	cp $(BUILD)/apxs/.libs/mod_tipzed.so $@.tmp && mv -f $@.tmp $@  # a new inode: a running server keeps its mapped copy

$(CTL): mod_tipzed/tipzedctl.c $(CORE_LIB)
	$(CC) $(CORE_CFLAGS) $(PQ_INC) -o $@ $< $(CORE_LIB) $(EXT_LIBS) $(APR_LIBS) $(SAN_FLAGS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tz_test.h $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -Itests/unit -o $@ $< $(CORE_LIB) $(EXT_LIBS) $(APR_LIBS) $(CHECK_LIBS) $(SAN_FLAGS)

