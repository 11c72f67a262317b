/*-------------------------------------------------------------------------
 *
 * movement.c
 *	  The one way credits move once they are granted: a set of batch
 *	  changes (by primary key), the ledger entries they make with the
 *	  running total after each, and one statement that records the
 *	  operation, appends the entries and moves the running total.
 *	  Redemption, capture, release, refund, void and cancellation all write
 *	  through it; grants (grant.c) and expire_batches (expire.c) have their
 *	  own set-based statements for the same tables.
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), taken before it
 *	  read the batches it changes, so the values computed here are current.
 *	  Batch changes are made first: under REPEATABLE READ a batch that a
 *	  concurrent transaction changed fails there with a serialization error
 *	  before anything else is written.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* $1 account, $2 batch, $3 change of remaining, $4 change of held */
static CreditsStatement change_batch = {
	.sql = "UPDATE credits.batches AS b"
	" SET remaining = b.remaining + $3, held = b.held + $4,"
	"     is_open = b.remaining + $3 > b.held + $4"
	" WHERE b.account_id = $1 AND b.batch_id = $2",
	.nargs = 4,
	.argtypes = {INT8OID, INT8OID, NUMERICOID, NUMERICOID}
};

static CreditsStatement read_total = {
	.sql = "SELECT t.total FROM credits.account_totals AS t"
	" WHERE t.account_id = $1 AND t.credit_type = $2",
	.nargs = 2,
	.argtypes = {INT8OID, TEXTOID}
};

/*
 * $1 account, $2 credit type, $3 net change of the running total,
 * $4 operation kind, $5 key, $6 request, $7 amount, $8 service,
 * $9 reference, $10 now, $11 refund_of, $12 hold, $13 membership,
 * $14 entry kinds, $15 batch ids, $16 deltas, $17 balance after each,
 * $18 the running total after the operation (NULL without a credit type).
 */
static CreditsStatement finish_movement = {
	.sql = "WITH operation AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key,"
	"    request, amount, credit_type, service_id, reference, created_at, refund_of,"
	"    hold_id, membership_id, balance_after)"
	"  VALUES ($1, pg_catalog.nextval('credits.operation_id_seq'), $4::text::credits.operation_kind,"
	"    $5, $6, $7, $2, $8, $9, $10, $11, $12, $13, $18)"
	"  RETURNING operation_id"
	"), total AS ("
	"  UPDATE credits.account_totals AS t SET total = t.total + $3"
	"  WHERE t.account_id = $1 AND t.credit_type = $2 AND $3 <> 0"
	"), entries AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, service_id, reference, created_at)"
	"  SELECT $1, operation.operation_id, e.entry_no, e.kind::credits.entry_kind, e.batch_id,"
	"    $2, e.delta, e.balance_after, $8, $9, $10"
	"  FROM operation, ROWS FROM (pg_catalog.unnest($14), pg_catalog.unnest($15),"
	"    pg_catalog.unnest($16), pg_catalog.unnest($17)) WITH ORDINALITY"
	"    AS e(kind, batch_id, delta, balance_after, entry_no)"
	")"
	" SELECT operation_id FROM operation",
	.nargs = 18,
	.argtypes = {INT8OID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID,
		INT8OID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID,
	TEXTARRAYOID, INT8ARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, NUMERICOID}
};

/*
 * The account's running total for the credit type (zero if it never had
 * any).  Runs inside SPI_connect.
 */
Numeric
credits_running_total(int64 account_id, text *credit_type)
{
	Datum		values[2] = {Int64GetDatum(account_id), PointerGetDatum(credit_type)};

	if (credits_execute(&read_total, values, NULL, 1) == 0)
		return credits_numeric_zero();
	return credits_result_numeric(0, 1);
}

void
credits_movement_start(CreditsMovement *movement, int64 account_id,
					   text *credit_type, Numeric total, TimestampTz now)
{
	memset(movement, 0, sizeof(CreditsMovement));
	movement->account_id = account_id;
	movement->credit_type = credit_type;
	movement->now = now;
	movement->total = total;
	movement->net = credits_numeric_zero();
	movement->capacity = 4;
	movement->kinds = palloc(sizeof(Datum) * movement->capacity);
	movement->batch_ids = palloc(sizeof(Datum) * movement->capacity);
	movement->deltas = palloc(sizeof(Datum) * movement->capacity);
	movement->balances_after = palloc(sizeof(Datum) * movement->capacity);
}

/*
 * Changes what a batch holds: remaining by remaining_delta, held by
 * held_delta (NULL: zero), and whether it is open with them.
 */
void
credits_movement_change_batch(CreditsMovement *movement, int64 batch_id,
							  Numeric remaining_delta, Numeric held_delta)
{
	Datum		values[4];

	values[0] = Int64GetDatum(movement->account_id);
	values[1] = Int64GetDatum(batch_id);
	values[2] = NumericGetDatum(remaining_delta ? remaining_delta : credits_numeric_zero());
	values[3] = NumericGetDatum(held_delta ? held_delta : credits_numeric_zero());
	if (credits_execute(&change_batch, values, NULL, 0) != 1)
		elog(ERROR, "batch " INT64_FORMAT " of account " INT64_FORMAT " vanished",
			 batch_id, movement->account_id);
}

/*
 * Adds a ledger entry (kind: a credits.entry_kind label) moving delta
 * credits of a batch, and returns the running total after it.  The batch
 * itself is changed by credits_movement_change_batch.
 */
Numeric
credits_movement_entry(CreditsMovement *movement, const char *kind,
					   int64 batch_id, Numeric delta)
{
	int			i = movement->count;

	if (i == movement->capacity)
	{
		movement->capacity *= 2;
		movement->kinds = repalloc(movement->kinds, sizeof(Datum) * movement->capacity);
		movement->batch_ids = repalloc(movement->batch_ids, sizeof(Datum) * movement->capacity);
		movement->deltas = repalloc(movement->deltas, sizeof(Datum) * movement->capacity);
		movement->balances_after = repalloc(movement->balances_after,
											sizeof(Datum) * movement->capacity);
	}
	movement->total = credits_numeric_add(movement->total, delta);
	movement->net = credits_numeric_add(movement->net, delta);
	movement->kinds[i] = CStringGetTextDatum(kind);
	movement->batch_ids[i] = Int64GetDatum(batch_id);
	movement->deltas[i] = NumericGetDatum(delta);
	movement->balances_after[i] = NumericGetDatum(movement->total);
	movement->count++;
	return movement->total;
}

static Datum
optional_int64(int64 value, char *null_flag)
{
	*null_flag = value == 0 ? 'n' : ' ';
	return Int64GetDatum(value);
}

/*
 * Records the operation, appends the entries and moves the running total.
 * Returns the new operation id.
 */
int64
credits_movement_finish(CreditsMovement *movement, const CreditsOperation *operation)
{
	Datum		values[18];
	char		nulls[18];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(movement->account_id);
	values[1] = PointerGetDatum(movement->credit_type);
	nulls[1] = movement->credit_type ? ' ' : 'n';
	values[2] = NumericGetDatum(movement->net);
	values[3] = CStringGetTextDatum(operation->kind);
	values[4] = PointerGetDatum(operation->idempotency_key);
	nulls[4] = operation->idempotency_key ? ' ' : 'n';
	values[5] = CStringGetTextDatum(operation->request);
	values[6] = NumericGetDatum(operation->amount);
	values[7] = Int64GetDatum(operation->service_id);
	nulls[7] = operation->has_service ? ' ' : 'n';
	values[8] = PointerGetDatum(operation->reference);
	nulls[8] = operation->reference ? ' ' : 'n';
	values[9] = TimestampTzGetDatum(movement->now);
	values[10] = optional_int64(operation->refund_of, &nulls[10]);
	values[11] = optional_int64(operation->hold_id, &nulls[11]);
	values[12] = optional_int64(operation->membership_id, &nulls[12]);
	values[13] = PointerGetDatum(construct_array(movement->kinds, movement->count,
												 TEXTOID, -1, false, TYPALIGN_INT));
	values[14] = PointerGetDatum(construct_array(movement->batch_ids, movement->count,
												 INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
												 TYPALIGN_DOUBLE));
	values[15] = PointerGetDatum(construct_array(movement->deltas, movement->count,
												 NUMERICOID, -1, false, TYPALIGN_INT));
	values[16] = PointerGetDatum(construct_array(movement->balances_after, movement->count,
												 NUMERICOID, -1, false, TYPALIGN_INT));
	values[17] = NumericGetDatum(movement->total);
	nulls[17] = movement->credit_type ? ' ' : 'n';

	if (credits_execute(&finish_movement, values, nulls, 0) != 1)
		elog(ERROR, "operation of account " INT64_FORMAT " was not recorded",
			 movement->account_id);
	return credits_result_int64(0, 1);
}
