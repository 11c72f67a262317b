/*-------------------------------------------------------------------------
 *
 * credits.c
 *	  Module entry point of the credits extension: the module magic, the
 *	  GUCs credits.default_expiry and credits.expiry_work_share, and the
 *	  caches that live for a backend.
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

	MarkGUCPrefixReserved("credits");

	credits_result_types_init();
	credits_direct_init();
}
