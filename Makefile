# mod_tipzed -- see README.md.  The two commands: `make run` and `make test`.
.DEFAULT_GOAL := all
include apxs/module.mk
include apxs/fuzz.mk

STACK       := tests/stack/stack.sh
RUN_DIR     ?= $(CURDIR)/.run
CLUSTER_DIR ?= $(CURDIR)/.cluster
PYTEST      ?= /usr/bin/python3 -m pytest
export SANITIZE
# Debian puts apache2, apache2ctl and useradd in /usr/sbin, which an
# ordinary user's PATH lacks.
export PATH := $(PATH):/usr/sbin:/sbin

.PHONY: all deps module ctl unit-bins unit integration test run stop cluster cluster-stop install uninstall clean valgrind bench stress test-as-user deb package-test

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
	TZ_STACK_DIR=$(STACK_DIR) $(PYTEST) -q -p no:cacheprovider --durations=25 tests/integration $(PYTEST_ARGS)

# Everything: a throwaway stack, the unit tests, the integration tests, teardown.
test: deps
	@$(MAKE) --no-print-directory all
	@tests/stack/test.sh

# A persistent development stack in .run/ (secrets kept there), then a walkthrough.
run: deps
	@$(MAKE) --no-print-directory all
	@$(STACK) up $(RUN_DIR) --sandbox --demo-biller
	@$(STACK) walkthrough $(RUN_DIR)

stop:
	@$(STACK) down $(RUN_DIR)

# Three nodes on one PostgreSQL and one Redis behind a mod_proxy_balancer
# front, in .cluster/ (README, "Running several nodes"); prints the URL.
cluster: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 tests/stack/cluster.py up $(CLUSTER_DIR)

cluster-stop:
	@/usr/bin/python3 tests/stack/cluster.py down $(CLUSTER_DIR)

# Throughput and latency against ceilings measured in the same run (wrk, pgbench).
bench: deps
	@$(MAKE) --no-print-directory all
	@command -v wrk >/dev/null || { [ "$$(id -u)" -ne 0 ] && echo "install wrk: sudo apt-get install -y wrk" && exit 1; apt-get install -y -qq wrk >/dev/null; }
	@/usr/bin/python3 tests/bench/bench.py

# The ledger's posting path today and sharded by creator (partitions
# standing in for shards) beside the commit ceiling, on a throwaway
# PostgreSQL (docs/scale.md); a little over two minutes, not in make test.
.PHONY: shard-sim
shard-sim:
	@tests/scale/shard_sim.sh

# The bank invariant under load and faults (PostgreSQL killed, Apache
# restarted, children SIGKILLed) on a throwaway stack; DURATION in seconds.
# make test runs a short one (tests/stack/test.sh).  NODES=3: through the
# front of a throwaway cluster, killing whole nodes and restarting Redis.
stress: deps
	@$(MAKE) --no-print-directory all
	@DURATION=$(or $(DURATION),600) NODES=$(or $(NODES),1) tests/stack/stress.sh

# `make run` and `make test` as an ordinary user with Debian's default PATH,
# in a fresh clone of the committed tree (run as root: it creates the user).
test-as-user:
	@tests/stack/as-user.sh

# The unit tests and the fuzz replays under valgrind (leaks are failures).
valgrind: $(UNIT_BINS) $(REPLAY_BINS)
	@command -v valgrind >/dev/null || { [ "$$(id -u)" -ne 0 ] && \
	  echo "make valgrind needs valgrind: sudo apt-get install -y valgrind" >&2 && exit 1; \
	  apt-get install -y -qq valgrind >/dev/null; }
	@tests/stack/run-unit.sh --valgrind $(UNIT_BINS) $(REPLAY_BINS)

# Installs like a Debian module: the module into Apache's module directory,
# tipzed.load and tipzed.conf into mods-available (an edited tipzed.conf is
# never overwritten: the new one goes beside it as tipzed.conf.dist),
# tipzedctl, its man page, the SQL it migrates with, the operator's
# dashboard (static files Apache serves, conf/tipzed.conf) and the shipped
# mail templates (a starting point for TipzedMailTemplates) under PREFIX.
# DESTDIR installs into a staging tree (as the install test does).
PREFIX      ?= /usr/local
APACHE_MODS := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
MODS_AVAIL  := /etc/apache2/mods-available
install: $(MODULE) $(CTL)
	install -d $(DESTDIR)$(APACHE_MODS) $(DESTDIR)$(MODS_AVAIL) $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/tipzed/sql/schema \
	  $(DESTDIR)$(PREFIX)/share/tipzed/sql/functions $(DESTDIR)$(PREFIX)/share/tipzed/dashboard \
	  $(DESTDIR)$(PREFIX)/share/tipzed/mail
	install -m 644 $(MODULE) $(DESTDIR)$(APACHE_MODS)/mod_tipzed.so
	install -m 644 conf/tipzed.load $(DESTDIR)$(MODS_AVAIL)/tipzed.load
	@# the dashboard's paths in tipzed.conf name the PREFIX installed to
	@sed 's|/usr/local/share/tipzed|$(PREFIX)/share/tipzed|g' conf/tipzed.conf > $(BUILD)/tipzed.conf
	@if [ -f $(DESTDIR)$(MODS_AVAIL)/tipzed.conf ] && \
	    ! cmp -s $(BUILD)/tipzed.conf $(DESTDIR)$(MODS_AVAIL)/tipzed.conf; then \
	  install -m 644 $(BUILD)/tipzed.conf $(DESTDIR)$(MODS_AVAIL)/tipzed.conf.dist; \
	  echo "kept your $(MODS_AVAIL)/tipzed.conf; the new one is tipzed.conf.dist beside it"; \
	else install -m 644 $(BUILD)/tipzed.conf $(DESTDIR)$(MODS_AVAIL)/tipzed.conf; fi
	install -m 755 $(CTL) $(DESTDIR)$(PREFIX)/bin/tipzedctl
	install -m 644 conf/tipzedctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/tipzedctl.1
	install -m 644 sql/schema/*.sql $(DESTDIR)$(PREFIX)/share/tipzed/sql/schema/
	install -m 644 sql/functions/*.sql $(DESTDIR)$(PREFIX)/share/tipzed/sql/functions/
	install -m 644 dashboard/* $(DESTDIR)$(PREFIX)/share/tipzed/dashboard/
	install -m 644 conf/mail/*.txt $(DESTDIR)$(PREFIX)/share/tipzed/mail/

uninstall:
	rm -f $(DESTDIR)$(APACHE_MODS)/mod_tipzed.so $(DESTDIR)$(MODS_AVAIL)/tipzed.load \
	  $(DESTDIR)$(MODS_AVAIL)/tipzed.conf.dist $(DESTDIR)$(PREFIX)/bin/tipzedctl \
	  $(DESTDIR)$(PREFIX)/share/man/man1/tipzedctl.1
	rm -rf $(DESTDIR)$(PREFIX)/share/tipzed
	@if [ -f $(DESTDIR)$(MODS_AVAIL)/tipzed.conf ]; then \
	  echo "kept $(MODS_AVAIL)/tipzed.conf (your configuration); remove it by hand"; fi

# The Debian package libapache2-mod-tipzed (docs/packaging.md), built with
# debhelper in a copy of the tree under build/deb/src: the .deb lands in
# build/deb/, the source tree gets no build products.
deb:
	@tests/package/build-deb.sh

# Installs that package on this machine, runs a tip end to end with it on a
# private PostgreSQL and Apache, then purges it (root; not part of make test).
package-test: deb
	@tests/package/package-test.sh

clean:
	rm -rf build
