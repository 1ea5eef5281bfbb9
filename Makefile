# mod_tipzed -- see README.md.  The two commands: `make run` and `make test`.
.DEFAULT_GOAL := all
include apxs/module.mk
include apxs/fuzz.mk

STACK       := tests/stack/stack.sh
RUN_DIR     ?= $(CURDIR)/.run
PYTEST      ?= /usr/bin/python3 -m pytest
export SANITIZE

.PHONY: all deps module ctl unit-bins unit integration test run stop install clean valgrind bench stress

all: $(MODULE) $(CTL) $(UNIT_BINS) $(REPLAY_BINS)

module: $(MODULE)
ctl: $(CTL)
unit-bins: $(UNIT_BINS)

# Installs the Debian packages that are missing (as root), or says which.
deps:
	@tests/stack/deps.sh

# Unit tests (check): no server needed.
unit: $(UNIT_BINS) $(REPLAY_BINS)
	@tests/stack/run-unit.sh $(UNIT_BINS) $(REPLAY_BINS)

# Integration tests against a running stack described by $(STACK_DIR)/env.
integration:
	@test -n "$(STACK_DIR)" || { echo "STACK_DIR is not set (use make test)"; exit 2; }
	TZ_STACK_DIR=$(STACK_DIR) $(PYTEST) -q -p no:cacheprovider tests/integration $(PYTEST_ARGS)

# Everything: a throwaway stack, the unit tests, the integration tests, teardown.
test: deps
	@$(MAKE) --no-print-directory all
	@tests/stack/test.sh

# A persistent development stack in .run/ (secrets kept there), then a walkthrough.
run: deps
	@$(MAKE) --no-print-directory all
	@$(STACK) up $(RUN_DIR) --sandbox
	@$(STACK) walkthrough $(RUN_DIR)

stop:
	@$(STACK) down $(RUN_DIR)

# Throughput and latency against ceilings measured in the same run (wrk, pgbench).
bench: deps
	@$(MAKE) --no-print-directory all
	@command -v wrk >/dev/null || { [ "$$(id -u)" -ne 0 ] && echo "install wrk: sudo apt-get install -y wrk" && exit 1; apt-get install -y -qq wrk >/dev/null; }
	@/usr/bin/python3 tests/bench/bench.py

# The bank invariant under load and faults (PostgreSQL killed, Apache
# restarted, children SIGKILLed) on a throwaway stack; DURATION in seconds.
# make test runs a short one (tests/stack/test.sh).
stress: deps
	@$(MAKE) --no-print-directory all
	@DURATION=$(or $(DURATION),600) tests/stack/stress.sh

valgrind: $(UNIT_BINS) $(REPLAY_BINS)
	@tests/stack/run-unit.sh --valgrind $(UNIT_BINS) $(REPLAY_BINS)

install: $(MODULE)
	$(APXS) -i -n tipzed $(MODULE)
	install -d $(DESTDIR)/etc/apache2/mods-available
	install -m 644 conf/tipzed.load conf/tipzed.conf $(DESTDIR)/etc/apache2/mods-available/

clean:
	rm -rf build
