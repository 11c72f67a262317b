/*-------------------------------------------------------------------------
 *
 * plans.c
 *	  Statements prepared once per backend and kept with SPI_keepplan, and
 *	  typed access to the rows they return.
 *
 * Every statement is written with parameters; no SQL is ever built from
 * values.  Plans are generic (CURSOR_OPT_GENERIC_PLAN) so that a call
 * never pays for planning; the plan cache still replans them after DDL
 * on the tables they read.  The functions that run them are SECURITY
 * DEFINER with search_path = pg_catalog, pg_temp, so operators in the
 * statements resolve in pg_catalog.  The expiry job's statements that
 * find and expire due batches and find overdue holds are planned and run
 * with jit off (without_jit).  This file takes no locks itself.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"

static SPIPlanPtr
credits_prepared_plan(CreditsStatement *statement)
{
	SPIPlanPtr	plan;

	if (statement->plan != NULL)
		return statement->plan;

	plan = SPI_prepare_cursor(statement->sql, statement->nargs,
							  statement->argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "could not prepare credits statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep credits statement plan");
	statement->plan = plan;
	return plan;
}

/*
 * A statement that takes "LIMIT $n" of every due row has a generic plan
 * costed for a tenth of them, which can pass jit_above_cost: PostgreSQL
 * would then compile it again at every execution, milliseconds each time
 * for a thousand rows (a fifth to a third of the expiry job's time).  The
 * plan cache plans while the statement runs or its cursor opens, so jit
 * is off for that time, as a function's SET clause would have it; an
 * error unwinds the setting with the transaction or subtransaction that
 * it aborts.  Returns the nest level to give without_jit_end.
 */
static int
without_jit_begin(CreditsStatement *statement)
{
	int			guc_nest_level;

	if (!statement->without_jit)
		return 0;
	guc_nest_level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return guc_nest_level;
}

static void
without_jit_end(CreditsStatement *statement, int guc_nest_level)
{
	if (statement->without_jit)
		AtEOXact_GUC(true, guc_nest_level);
}

/*
 * Runs a kept statement and returns how many rows it processed.  The rows
 * are in SPI_tuptable until the next statement or SPI_finish.  max_rows
 * stops the executor early (0 means all rows).
 */
uint64
credits_execute(CreditsStatement *statement, Datum *values, const char *nulls,
				long max_rows)
{
	int			result;
	int			guc_nest_level = without_jit_begin(statement);

	result = SPI_execute_plan(credits_prepared_plan(statement), values, nulls,
							  false, max_rows);
	without_jit_end(statement, guc_nest_level);
	if (result < 0)
		elog(ERROR, "credits statement failed: %s", SPI_result_code_string(result));
	return SPI_processed;
}

/*
 * Opens a kept statement as a cursor, for a caller that decides from the
 * rows it has fetched (SPI_cursor_fetch) whether it needs more: the
 * executor produces no row before it is fetched, so a row lock in the
 * statement is taken only on the rows fetched.  The caller closes it
 * (SPI_cursor_close) before SPI_finish.
 */
Portal
credits_open_cursor(CreditsStatement *statement, Datum *values, const char *nulls)
{
	Portal		portal;
	int			guc_nest_level = without_jit_begin(statement);

	portal = SPI_cursor_open(NULL, credits_prepared_plan(statement), values, nulls,
							 false);
	without_jit_end(statement, guc_nest_level);
	if (portal == NULL)
		elog(ERROR, "could not open credits statement: %s",
			 SPI_result_code_string(SPI_result));
	return portal;
}

Datum
credits_result_datum(int row, int column, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 column, isnull);
}

int64
credits_result_int64(int row, int column)
{
	bool		isnull;
	Datum		value = credits_result_datum(row, column, &isnull);

	if (isnull)
		elog(ERROR, "unexpected null in column %d of a credits statement", column);
	return DatumGetInt64(value);
}

Numeric
credits_result_numeric(int row, int column)
{
	bool		isnull;
	Datum		value = credits_result_datum(row, column, &isnull);

	if (isnull)
		elog(ERROR, "unexpected null in column %d of a credits statement", column);
	return DatumGetNumeric(value);
}
