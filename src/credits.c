/*-------------------------------------------------------------------------
 *
 * credits.c
 *	  Module entry point of the credits extension: the module magic, the
 *	  GUCs credits.default_expiry, credits.expiry_work_share,
 *	  credits.expiry_synchronous_commit and credits.account_lock_spin (read
 *	  by lock_spin.c), and the caches that live for a backend.
 *
 * The SQL-callable functions live in one file per job: grant.c,
 * redeem.c, expire.c and balance.c.  This file takes no locks.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "utils/guc.h"

PG_MODULE_MAGIC;

static char *default_expiry_setting = NULL;

/* read by the procedure credits.run_expiry through current_setting */
static double expiry_work_share = 0.25;

/*
 * read by the procedure credits.run_expiry through current_setting, which
 * hands the name on to synchronous_commit for each transaction it commits;
 * so the names are synchronous_commit's own
 */
static int	expiry_synchronous_commit = 0;

static const struct config_enum_entry synchronous_commit_names[] = {
	{"off", 0, false},
	{"local", 1, false},
	{"remote_write", 2, false},
	{"remote_apply", 3, false},
	{"on", 4, false},
	{NULL, 0, false}
};

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("credits.default_expiry",
							   "Validity of package credits whose package has no expires_after.",
							   "An interval such as '12 months'; must be positive.",
							   &default_expiry_setting,
							   "12 months",
							   PGC_USERSET,
							   0,
							   credits_check_default_expiry,
							   credits_assign_default_expiry,
							   NULL);

	DefineCustomRealVariable("credits.expiry_work_share",
							 "Share of its running time that credits.run_expiry spends working.",
							 "After each batch run_expiry pauses so that its work takes at most "
							 "this share of the time; 1 means no pause.",
							 &expiry_work_share,
							 0.25,
							 0.01,
							 1.0,
							 PGC_USERSET,
							 0,
							 NULL,
							 NULL,
							 NULL);

	DefineCustomEnumVariable("credits.expiry_synchronous_commit",
							 "synchronous_commit of the transactions credits.run_expiry commits.",
							 "off: a crash can lose the last expiries, which the next run "
							 "makes again; any later synchronous commit also makes them durable.",
							 &expiry_synchronous_commit,
							 0,
							 synchronous_commit_names,
							 PGC_USERSET,
							 0,
							 NULL,
							 NULL,
							 NULL);

	DefineCustomIntVariable("credits.account_lock_spin",
							"Longest time, in microseconds, a write spins for an account "
							"locked by a running transaction before it sleeps.",
							"While the lock's holder works (it waits for nothing that may "
							"last), a waiter watches it and takes the account as soon as "
							"it ends; 0 sleeps at once, as PostgreSQL's own wait does.",
							&credits_account_lock_spin,
							100,
							0,
							1000000,
							PGC_USERSET,
							0,
							NULL,
							NULL,
							NULL);

	MarkGUCPrefixReserved("credits");

	credits_result_types_init();
	credits_direct_init();
}
