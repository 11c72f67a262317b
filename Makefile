# Makefile for the credits extension (PGXS)
EXTENSION = credits
EXTVERSION = 1.3

MODULE_big = credits
OBJS = \
	src/credits.o \
	src/plans.o \
	src/arguments.o \
	src/result_types.o \
	src/catalogue.o \
	src/accounts.o \
	src/idempotency.o \
	src/grant.o \
	src/draw.o \
	src/movement.o \
	src/direct_write.o \
	src/direct_read.o \
	src/lock_spin.o \
	src/direct_redeem.o \
	src/direct_hold.o \
	src/direct_capture.o \
	src/direct_grant.o \
	src/redeem.o \
	src/holds.o \
	src/refunds.o \
	src/cancel.o \
	src/memberships.o \
	src/expire.o \
	src/balance.o

# Install scripts and upgrade steps; the regression inputs in sql/ have no "--".
DATA = $(wildcard sql/$(EXTENSION)--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))
ISOLATION = $(patsubst specs/%.spec,%,$(wildcard specs/*.spec))

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# pgTAP files in test/, run with pg_prove against the running server.
PG_PROVE ?= pg_prove
prove_installcheck:
	$(PG_PROVE) --ext .sql -d $${PGDATABASE:-postgres} test/
.PHONY: prove_installcheck
