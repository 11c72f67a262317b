/*-------------------------------------------------------------------------
 *
 * draw.c
 *	  Chooses the batches an amount is drawn from: spendable batches in
 *	  consumption order (earliest expiry, then earliest valid_from, then
 *	  lowest id), as much from each as it can give, until the amount is
 *	  covered.  Redemption and holds draw through here, but for those that
 *	  their first batch covers (direct_redeem.c, direct_hold.c); the
 *	  errors for an amount that cannot be covered (CR001, CR007, CR008)
 *	  are raised here.
 *
 * Locking
 *	  None of its own.  The caller holds the account's row lock, so the
 *	  batches read here stay as read until the caller changes them.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

/* Spendable batches read in the first pass; a second pass reads the rest */
#define BATCHES_FIRST_PASS 16

static CreditsStatement spendable_batches = {
	.sql = "SELECT b.batch_id, b.remaining - b.held, b.expires_at,"
	" (SELECT t.total FROM credits.account_totals AS t"
	"   WHERE t.account_id = $1 AND t.credit_type = $2)"
	" FROM credits.batches AS b"
	" WHERE " CREDITS_SPENDABLE_BATCH
	" ORDER BY " CREDITS_CONSUMPTION_ORDER,
	.nargs = 4,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

/* Spendable credits restricted to services other than the one asked for */
static CreditsStatement restricted_elsewhere = {
	.sql = "SELECT 1 FROM credits.batches AS b"
	" WHERE b.account_id = $1 AND b.credit_type = $2 AND b.is_open"
	" AND b.expires_at > $4 AND b.valid_from <= $4"
	" AND b.service_ids IS NOT NULL AND NOT ($3 = ANY (b.service_ids))",
	.nargs = 4,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

/*
 * Draws amount from the spendable batches into allocations, in consumption
 * order.  Returns what is still missing (zero when covered) and sets
 * *total to the account's running total for the credit type.
 */
Numeric
credits_draw_spendable(int64 account_id, text *credit_type, bool has_service,
					   int64 service_id, Numeric amount, TimestampTz now,
					   CreditsAllocations *allocations, Numeric *total)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Numeric		missing = amount;
	uint64		rows;
	bool		isnull;

	values[0] = Int64GetDatum(account_id);
	values[1] = PointerGetDatum(credit_type);
	values[2] = Int64GetDatum(service_id);
	nulls[2] = has_service ? ' ' : 'n';
	values[3] = TimestampTzGetDatum(now);

	rows = credits_execute(&spendable_batches, values, nulls, BATCHES_FIRST_PASS);
	if (rows == 0)
	{
		*total = credits_numeric_zero();
		return missing;
	}

	/* Not covered by the first pass: read them all (bounded by open batches) */
	if (rows == BATCHES_FIRST_PASS)
	{
		Numeric		first_pass = credits_numeric_zero();

		for (uint64 i = 0; i < rows; i++)
			first_pass = credits_numeric_add(first_pass, credits_result_numeric(i, 2));
		if (credits_numeric_cmp(first_pass, amount) < 0)
			rows = credits_execute(&spendable_batches, values, nulls, 0);
	}

	credits_result_datum(0, 4, &isnull);
	if (isnull)
		elog(ERROR, "account " INT64_FORMAT " has batches but no running total",
			 account_id);
	*total = credits_result_numeric(0, 4);

	for (uint64 i = 0; i < rows && !credits_numeric_is_zero(missing); i++)
	{
		Numeric		take = credits_numeric_min(credits_result_numeric(i, 2), missing);

		missing = credits_numeric_sub(missing, take);
		credits_allocations_add(allocations, credits_result_int64(i, 1), take,
								DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)));
	}
	return missing;
}

/*
 * The error for an amount the spendable batches do not cover: CR008 for an
 * unknown credit type, CR007 when the service is covered by no spendable
 * batch although the account has credits for other services, CR001
 * otherwise.
 */
void
credits_report_shortfall(int64 account_id, text *credit_type, bool has_service,
						 int64 service_id, Numeric amount, Numeric missing,
						 TimestampTz now)
{
	Numeric		available = credits_numeric_sub(amount, missing);

	credits_require_credit_type(credit_type);

	if (has_service && credits_numeric_is_zero(available))
	{
		Datum		values[4];

		values[0] = Int64GetDatum(account_id);
		values[1] = PointerGetDatum(credit_type);
		values[2] = Int64GetDatum(service_id);
		values[3] = TimestampTzGetDatum(now);
		if (credits_execute(&restricted_elsewhere, values, NULL, 1) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_CREDITS_SERVICE_NOT_COVERED),
					 errmsg("no credits of account " INT64_FORMAT " can be used for service " INT64_FORMAT,
							account_id, service_id),
					 errdetail("The account's spendable \"%s\" credits are restricted to other services.",
							   text_to_cstring(credit_type))));
	}

	ereport(ERROR,
			(errcode(ERRCODE_CREDITS_INSUFFICIENT),
			 errmsg("insufficient credits"),
			 errdetail("Account " INT64_FORMAT " needs %s \"%s\" credits and can spend %s.",
					   account_id, credits_numeric_text(amount),
					   text_to_cstring(credit_type), credits_numeric_text(available))));
}
