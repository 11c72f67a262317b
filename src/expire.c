/*-------------------------------------------------------------------------
 *
 * expire.c
 *	  credits.expire_batches: zeroes what is left (and not held) of batches
 *	  past their expires_at, with one expire ledger entry each, a batch of
 *	  accounts at a time.
 *
 * Locking
 *	  First statement, fetched through a cursor: the rows of accounts that
 *	  have due batches, earliest expiry first, are locked FOR UPDATE SKIP
 *	  LOCKED until the accounts locked have max_batches due batches
 *	  between them (the last fetch may lock a few more), so an account a
 *	  redemption or grant holds is skipped (the next run takes it) while
 *	  the others are taken, and this function never waits, nor deadlocks
 *	  with a write path.  Second statement, with a snapshot taken after
 *	  those locks: for the locked accounts only, up to max_batches due
 *	  batches in account order are zeroed, the running totals lowered, one
 *	  operation per account inserted and the ledger entries appended.
 *	  Redemption never spends a batch past its expiry in the meantime
 *	  (CREDITS_SPENDABLE_BATCH), whether this has run or not.  Both
 *	  statements run with jit off (plans.c).
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/hsearch.h"

PG_FUNCTION_INFO_V1(credits_expire_batches);

/*
 * $1 now, $2 at most this many batches.  The due batches are walked in
 * expiry order and their accounts locked at the same level as the LIMIT,
 * so a batch whose account is held elsewhere is skipped without counting
 * against the limit: one busy account never stops the others expiring.
 * Each row also says how many batches of its account are due (at most
 * $2), read before the lock: expire_due_batches takes the due batches of
 * the locked accounts, so lock_accounts_to_expire stops fetching once the
 * accounts locked have $2 between them, instead of locking the account
 * of every one of $2 batches.  An account met again is already ours.
 */
static CreditsStatement lock_due_accounts = {
	.sql = "SELECT a.account_id,"
	"  (SELECT pg_catalog.count(*) FROM ("
	"     SELECT FROM credits.batches AS d"
	"     WHERE d.account_id = a.account_id AND d.is_open"
	"       AND d.expires_at <= $1 AND d.expires_at < 'infinity'"
	"     LIMIT $2) AS due) AS due_batches"
	" FROM credits.batches AS b"
	" JOIN credits.accounts AS a ON a.account_id = b.account_id"
	" WHERE b.is_open AND b.expires_at <= $1 AND b.expires_at < 'infinity'"
	" ORDER BY b.expires_at"
	" LIMIT $2"
	" FOR UPDATE OF a SKIP LOCKED",
	.nargs = 2,
	.argtypes = {TIMESTAMPTZOID, INT8OID},
	.without_jit = true
};

/*
 * $1 locked accounts, $2 now, $3 at most this many batches.  What expires
 * of a batch is what no hold keeps (remaining - held); held credits stay
 * with their hold, which expires them when it gives them back.
 *
 * Everything per row is computed in one pass over the due batches, with
 * window functions: the entry number within the account, the credits of
 * that credit type expired up to and including this entry, and one new
 * operation id per account (drawn on the account's first entry and shared
 * with its others).  No two CTEs are joined to each other, so the cost is
 * linear in the batches expired; the only joins are by primary key into
 * the tables.  Every part of the statement sees the running totals as they
 * were before it, so an entry's balance_after is the old total less what
 * this call expired of that credit type up to that entry.
 */
static CreditsStatement expire_due_batches = {
	.sql = "WITH due AS ("
	"  SELECT b.account_id, b.batch_id, b.credit_type, b.remaining - b.held AS remaining"
	"  FROM credits.batches AS b"
	"  WHERE b.account_id = ANY ($1) AND b.is_open AND b.expires_at <= $2"
	"  ORDER BY b.account_id, b.credit_type, b.batch_id"
	"  LIMIT $3"
	"), numbered AS MATERIALIZED ("
	"  SELECT n.*, CASE WHEN n.entry_no = 1"
	"               THEN pg_catalog.nextval('credits.operation_id_seq') END AS new_operation_id"
	"  FROM (SELECT d.*,"
	"          pg_catalog.row_number() OVER (PARTITION BY d.account_id"
	"                                        ORDER BY d.credit_type, d.batch_id) AS entry_no,"
	"          pg_catalog.sum(d.remaining) OVER (PARTITION BY d.account_id, d.credit_type"
	"                                            ORDER BY d.batch_id) AS expired_so_far,"
	"          pg_catalog.sum(d.remaining) OVER (PARTITION BY d.account_id) AS account_expired"
	"        FROM due AS d) AS n"
	"), expiring AS MATERIALIZED ("
	"  SELECT e.*, pg_catalog.max(e.new_operation_id) OVER (PARTITION BY e.account_id) AS operation_id"
	"  FROM numbered AS e"
	"), totals AS ("
	"  UPDATE credits.account_totals AS t SET total = t.total - p.expired"
	"  FROM (SELECT e.account_id, e.credit_type, pg_catalog.max(e.expired_so_far) AS expired"
	"        FROM expiring AS e GROUP BY e.account_id, e.credit_type) AS p"
	"  WHERE t.account_id = p.account_id AND t.credit_type = p.credit_type"
	"), operations AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, request, amount, created_at)"
	"  SELECT e.account_id, e.operation_id, 'expire_batches', 'expire_batches', e.account_expired, $2"
	"  FROM expiring AS e WHERE e.entry_no = 1"
	"), zeroed AS ("
	"  UPDATE credits.batches AS b SET remaining = b.held, is_open = false"
	"  FROM expiring AS e"
	"  WHERE b.account_id = e.account_id AND b.batch_id = e.batch_id"
	"), entries AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, created_at)"
	"  SELECT e.account_id, e.operation_id, e.entry_no, 'expire', e.batch_id, e.credit_type,"
	"    -e.remaining, t.total - e.expired_so_far, $2"
	"  FROM expiring AS e"
	"  JOIN credits.account_totals AS t"
	"    ON t.account_id = e.account_id AND t.credit_type = e.credit_type"
	")"
	" SELECT pg_catalog.count(*) FROM expiring",
	.nargs = 3,
	.argtypes = {INT8ARRAYOID, TIMESTAMPTZOID, INT8OID},
	.without_jit = true
};

/*
 * Locks the accounts of the earliest due batches (lock_due_accounts),
 * fetching until the accounts locked have max_batches due batches
 * between them or none is left, and returns their ids as a bigint[], or
 * (Datum) 0 if none could be locked.  After the first row, each fetch
 * asks for as many rows as the rows so far, on average, say are still
 * needed, 256 at most: one fetch a row would cost more than the locks it
 * saves when every account has one due batch, and rows of an account
 * already locked (which bring nothing) make the next fetch larger.
 */
static Datum
lock_accounts_to_expire(TimestampTz now, int64 max_batches)
{
	Datum		values[2];
	Portal		portal;
	HASHCTL		hash_options;
	HTAB	   *accounts_seen;
	ArrayBuildState *accounts = NULL;
	int64		rows_fetched = 0;
	int64		due_batches = 0;
	long		rows_wanted = 1;

	values[0] = TimestampTzGetDatum(now);
	values[1] = Int64GetDatum(max_batches);
	portal = credits_open_cursor(&lock_due_accounts, values, NULL);

	hash_options.keysize = sizeof(int64);
	hash_options.entrysize = sizeof(int64);
	hash_options.hcxt = CurrentMemoryContext;
	accounts_seen = hash_create("credits accounts to expire", 256, &hash_options,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	while (due_batches < max_batches)
	{
		uint64		row;

		SPI_cursor_fetch(portal, true, rows_wanted);
		if (SPI_processed == 0)
			break;
		for (row = 0; row < SPI_processed; row++)
		{
			int64		account_id = credits_result_int64(row, 1);
			bool		found;

			(void) hash_search(accounts_seen, &account_id, HASH_ENTER, &found);
			if (found)
				continue;
			accounts = accumArrayResult(accounts, Int64GetDatum(account_id), false,
										INT8OID, CurrentMemoryContext);
			due_batches += credits_result_int64(row, 2);
		}
		rows_fetched += SPI_processed;
		SPI_freetuptable(SPI_tuptable);
		if (due_batches > 0)
			rows_wanted = Min(256, ((max_batches - due_batches) * rows_fetched +
									due_batches - 1) / due_batches);
	}
	SPI_cursor_close(portal);

	if (accounts == NULL)
		return (Datum) 0;
	return makeArrayResult(accounts, CurrentMemoryContext);
}

Datum
credits_expire_batches(PG_FUNCTION_ARGS)
{
	Datum		values[3];
	Datum		locked;
	TimestampTz now;
	int64		max_batches;
	int64		expired = 0;

	credits_require_arg(fcinfo, 0, "max_batches");
	max_batches = credits_checked_max_rows(PG_GETARG_INT32(0), "max_batches");

	SPI_connect();

	now = credits_now();
	locked = lock_accounts_to_expire(now, max_batches);

	if (locked != (Datum) 0)
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
