/*-------------------------------------------------------------------------
 *
 * expire.c
 *	  credits.expire_batches: zeroes batches past their expires_at, with
 *	  one expire ledger entry each, a batch of accounts at a time.
 *
 * Locking
 *	  First statement: the rows of accounts that have due batches are
 *	  locked FOR UPDATE SKIP LOCKED, so an account a redemption or grant
 *	  holds is skipped (the next run takes it) while the others are taken,
 *	  and this function never waits, nor deadlocks with a write path.  Second statement, with
 *	  a snapshot taken after those locks: for the locked accounts only,
 *	  the due batches are zeroed, the running totals lowered, one
 *	  operation per account inserted and the ledger entries appended.
 *	  Redemption never spends a batch past its expiry in the meantime
 *	  (CREDITS_SPENDABLE_BATCH), whether this has run or not.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"

PG_FUNCTION_INFO_V1(credits_expire_batches);

/*
 * $1 now, $2 at most this many batches.  The due batches are walked in
 * expiry order and their accounts locked at the same level as the LIMIT,
 * so a batch whose account is held elsewhere is skipped without counting
 * against the limit: one busy account never stops the others expiring.
 * An account met again is already ours, and is listed once.
 */
static CreditsStatement lock_due_accounts = {
	.sql = "SELECT pg_catalog.array_agg(DISTINCT locked.account_id) FROM ("
	"  SELECT a.account_id"
	"  FROM credits.batches AS b"
	"  JOIN credits.accounts AS a ON a.account_id = b.account_id"
	"  WHERE b.is_open AND b.expires_at <= $1 AND b.expires_at < 'infinity'"
	"  ORDER BY b.expires_at"
	"  LIMIT $2"
	"  FOR UPDATE OF a SKIP LOCKED"
	") AS locked",
	.nargs = 2,
	.argtypes = {TIMESTAMPTZOID, INT8OID}
};

/*
 * $1 locked accounts, $2 now, $3 at most this many batches.  Entries of
 * one account are numbered by credit type and batch id; balance_after is
 * the new running total plus what the account's later entries of that
 * credit type take away.
 */
static CreditsStatement expire_due_batches = {
	.sql = "WITH due AS ("
	"  SELECT b.account_id, b.batch_id, b.credit_type, b.remaining"
	"  FROM credits.batches AS b"
	"  WHERE b.account_id = ANY ($1) AND b.is_open AND b.expires_at <= $2"
	"  ORDER BY b.account_id, b.credit_type, b.batch_id"
	"  LIMIT $3"
	"), per_type AS ("
	"  SELECT d.account_id, d.credit_type, pg_catalog.sum(d.remaining) AS expired"
	"  FROM due AS d GROUP BY d.account_id, d.credit_type"
	"), totals AS ("
	"  UPDATE credits.account_totals AS t SET total = t.total - p.expired"
	"  FROM per_type AS p"
	"  WHERE t.account_id = p.account_id AND t.credit_type = p.credit_type"
	"  RETURNING t.account_id, t.credit_type, t.total"
	"), per_account AS ("
	"  SELECT d.account_id, pg_catalog.nextval('credits.operation_id_seq') AS operation_id,"
	"    pg_catalog.sum(d.remaining) AS expired"
	"  FROM due AS d GROUP BY d.account_id"
	"), operations AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, request, amount, created_at)"
	"  SELECT o.account_id, o.operation_id, 'expire_batches', 'expire_batches', o.expired, $2"
	"  FROM per_account AS o"
	"), zeroed AS ("
	"  UPDATE credits.batches AS b SET remaining = 0, is_open = false"
	"  FROM due AS d"
	"  WHERE b.account_id = d.account_id AND b.batch_id = d.batch_id"
	"), entries AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, created_at)"
	"  SELECT d.account_id, o.operation_id,"
	"    pg_catalog.row_number() OVER (PARTITION BY d.account_id"
	"                                  ORDER BY d.credit_type, d.batch_id),"
	"    'expire', d.batch_id, d.credit_type, -d.remaining,"
	"    t.total + COALESCE(pg_catalog.sum(d.remaining) OVER ("
	"      PARTITION BY d.account_id, d.credit_type ORDER BY d.batch_id"
	"      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0),"
	"    $2"
	"  FROM due AS d"
	"  JOIN per_account AS o ON o.account_id = d.account_id"
	"  JOIN totals AS t ON t.account_id = d.account_id AND t.credit_type = d.credit_type"
	")"
	" SELECT pg_catalog.count(*) FROM due",
	.nargs = 3,
	.argtypes = {INT8ARRAYOID, TIMESTAMPTZOID, INT8OID}
};

Datum
credits_expire_batches(PG_FUNCTION_ARGS)
{
	Datum		values[3];
	bool		isnull;
	Datum		locked;
	TimestampTz now;
	int64		max_batches;
	int64		expired = 0;

	credits_require_arg(fcinfo, 0, "max_batches");
	max_batches = credits_checked_max_rows(PG_GETARG_INT32(0), "max_batches");

	SPI_connect();

	now = credits_now();
	values[0] = TimestampTzGetDatum(now);
	values[1] = Int64GetDatum(max_batches);
	credits_execute(&lock_due_accounts, values, NULL, 1);
	locked = credits_result_datum(0, 1, &isnull);

	if (!isnull)
	{
		values[0] = locked;
		values[1] = TimestampTzGetDatum(now);
		values[2] = Int64GetDatum(max_batches);
		credits_execute(&expire_due_batches, values, NULL, 0);
		expired = credits_result_int64(0, 1);
	}

	SPI_finish();
	PG_RETURN_INT64(expired);
}
