/*-------------------------------------------------------------------------
 *
 * direct_redeem.c
 *	  The common redemption, one batch that covers the amount, written
 *	  through the table access method (direct_write.c) instead of a SQL
 *	  statement: find the first spendable batch in
 *	  credits.batches_spendable_idx, update it and the running total in
 *	  place, insert the ledger entry and the operation.  It makes the same
 *	  row changes, in the same order, as the statement
 *	  redeem_from_first_batch in redeem.c, which runs instead when
 *	  direct_write.c says the tables need it (triggers, row-level
 *	  security, children, privileges).  The search for the first batch
 *	  serves holds too (direct_hold.c).
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), so no other
 *	  writer touches the account's batches, running total or operations:
 *	  the row versions read here are the ones updated.  The four tables
 *	  and their indexes are locked as the statement would lock them
 *	  (direct_write.c); the batch index searched with AccessShareLock.
 *
 *-------------------------------------------------------------------------
 */
#include "direct.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"

/* The first spendable batch: the columns read, and those a path changes */
static const char *const batch_columns[DIRECT_BATCH_COLUMN_COUNT] = {
	"batch_id", "remaining", "held", "is_open", "valid_from", "expires_at", "service_ids"
};

static const Oid batch_types[DIRECT_BATCH_COLUMN_COUNT] = {
	INT8OID, NUMERICOID, NUMERICOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8ARRAYOID
};

DirectShape direct_spendable_batch_shape = {
	.table = DIRECT_BATCHES, .privileges = ACL_SELECT | ACL_UPDATE,
	.names = batch_columns, .types = batch_types, .count = DIRECT_BATCH_COLUMN_COUNT
};

static DirectShape *const redemption_shapes[] = {
	&direct_spendable_batch_shape, &direct_total_shape, &direct_operation_shape,
	&direct_entry_shape
};

/* True if the batch may be spent on the service, as in CREDITS_SPENDABLE_BATCH */
static bool
batch_applies(TupleTableSlot *batch, const CreditsDrawRequest *request)
{
	bool		isnull;
	Datum		service_ids = direct_get(batch, &direct_spendable_batch_shape,
										 DIRECT_BATCH_SERVICE_IDS, &isnull);
	Datum	   *elements;
	bool	   *element_nulls;
	int			count;

	if (isnull)
		return true;
	if (!request->has_service)
		return false;
	deconstruct_array(DatumGetArrayTypeP(service_ids), INT8OID, sizeof(int64),
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elements, &element_nulls, &count);
	for (int i = 0; i < count; i++)
		if (!element_nulls[i] && DatumGetInt64(elements[i]) == request->service_id)
			return true;
	return false;
}

/*
 * The first spendable batch in consumption order, into batch (a slot of
 * the batches): the index is in that order (account, credit type,
 * expiry, validity start, batch id) and holds open batches only.  False
 * if there is none.
 */
static bool
find_first_batch(DirectCall *call, const CreditsDrawRequest *request, TimestampTz now,
				 TupleTableSlot *batch)
{
	DirectShape *shape = &direct_spendable_batch_shape;
	Relation	index = direct_open_index(DIRECT_BATCHES, DIRECT_SEARCH_INDEX);
	ScanKeyData keys[3];
	IndexScanDesc scan;
	bool		found = false;

	direct_account_credit_type_keys(keys, index, request->account_id, request->credit_type);
	ScanKeyInit(&keys[2], 3, BTGreaterStrategyNumber, F_TIMESTAMPTZ_GT,
				TimestampTzGetDatum(now));

	scan = index_beginscan(call->tables[DIRECT_BATCHES], index, call->snapshot, 3, 0);
	index_rescan(scan, keys, 3, NULL, 0);
	while (!found && index_getnext_slot(scan, ForwardScanDirection, batch))
	{
		bool		isnull;

		found = DatumGetBool(direct_get(batch, shape, DIRECT_BATCH_IS_OPEN, &isnull)) &&
			DatumGetTimestampTz(direct_get(batch, shape, DIRECT_BATCH_VALID_FROM,
										   &isnull)) <= now &&
			batch_applies(batch, request);
	}
	index_endscan(scan);
	index_close(index, NoLock);
	return found;
}

static Numeric
numeric_column(TupleTableSlot *slot, const DirectShape *shape, int column)
{
	bool		isnull;

	return DatumGetNumeric(direct_get(slot, shape, column, &isnull));
}

/*
 * The first spendable batch, into batch, with its *remaining and *held,
 * and the account's running total of the credit type, into total, if
 * that batch alone can give request->amount (what it has that no hold
 * keeps).  False if it cannot, or there is no such batch or running total.
 */
bool
direct_find_covering_batch(DirectCall *call, const CreditsDrawRequest *request,
						   TimestampTz now, TupleTableSlot *batch, Numeric *remaining,
						   Numeric *held, TupleTableSlot *total)
{
	if (!find_first_batch(call, request, now, batch) ||
		!direct_find_total(call, request->account_id, request->credit_type, total))
		return false;
	*remaining = numeric_column(batch, &direct_spendable_batch_shape, DIRECT_BATCH_REMAINING);
	*held = numeric_column(batch, &direct_spendable_batch_shape, DIRECT_BATCH_HELD);
	return credits_numeric_cmp(credits_numeric_sub(*remaining, *held), request->amount) >= 0;
}

/*
 * Writes the batch direct_find_covering_batch found, with remaining and
 * held as given and is_open as they make it, and records its id and
 * expiry in *drawn.  The first write of a redemption or hold: under
 * REPEATABLE READ a conflict stops everything here.
 */
void
direct_draw_batch(DirectCall *call, TupleTableSlot *batch, Numeric remaining, Numeric held,
				  CreditsFirstBatch *drawn)
{
	DirectShape *shape = &direct_spendable_batch_shape;
	TupleTableSlot *changed = direct_changed_row(call, DIRECT_BATCHES, batch);
	bool		isnull;

	direct_set(changed, shape, DIRECT_BATCH_REMAINING, NumericGetDatum(remaining), false);
	direct_set(changed, shape, DIRECT_BATCH_HELD, NumericGetDatum(held), false);
	direct_set(changed, shape, DIRECT_BATCH_IS_OPEN,
			   BoolGetDatum(credits_numeric_cmp(remaining, held) > 0), false);
	drawn->batch_id = DatumGetInt64(direct_get(batch, shape, DIRECT_BATCH_BATCH_ID, &isnull));
	drawn->expires_at = DatumGetTimestampTz(direct_get(batch, shape, DIRECT_BATCH_EXPIRES_AT,
													  &isnull));
	direct_update(call, DIRECT_BATCHES, batch, changed);
}

/*
 * The ledger entry, then the operation row: the order the statement
 * writes them in, its last WITH queries (which nothing reads) being run
 * to completion after the rest, the last one first
 */
static void
insert_entry_and_operation(DirectCall *call, const CreditsDrawRequest *redeem,
						   TimestampTz now, const CreditsFirstBatch *drawn)
{
	DirectOperationRow operation = {0};
	DirectEntryRow entry = {0};

	entry.account_id = redeem->account_id;
	entry.operation_id = drawn->operation_id;
	entry.entry_no = 1;
	entry.kind = "redeem";
	entry.batch_id = drawn->batch_id;
	entry.credit_type = redeem->credit_type;
	entry.delta = credits_numeric_sub(credits_numeric_zero(), redeem->amount);
	entry.balance_after = drawn->total;
	entry.writes_service_id = true;
	entry.has_service = redeem->has_service;
	entry.service_id = redeem->service_id;
	entry.reference = redeem->reference;
	entry.created_at = now;
	direct_insert_entry(call, &entry);

	operation.account_id = redeem->account_id;
	operation.operation_id = drawn->operation_id;
	operation.kind = redeem->kind;
	operation.idempotency_key = redeem->idempotency_key;
	operation.request = redeem->request;
	operation.amount = redeem->amount;
	operation.credit_type = redeem->credit_type;
	operation.writes_service_id = true;
	operation.has_service = redeem->has_service;
	operation.service_id = redeem->service_id;
	operation.reference = redeem->reference;
	operation.created_at = now;
	operation.balance_after = drawn->total;
	direct_insert_operation(call, &operation);
}

/*
 * Redeems redeem->amount from the first spendable batch alone, if it covers
 * it.  CREDITS_DIRECT_WRITTEN: done, with the operation, the batch, its
 * expiry and the running total after in *drawn.  CREDITS_DIRECT_SHORT:
 * the first batch does not cover the amount (or there is none), nothing
 * written.  CREDITS_DIRECT_UNAVAILABLE: the tables need the SQL
 * statement, nothing written.  Must be called inside SPI_connect, with
 * the account locked.
 */
CreditsDirectResult
credits_redeem_first_batch_directly(const CreditsDrawRequest *redeem, TimestampTz now,
									CreditsFirstBatch *drawn)
{
	DirectCall	call;
	TupleTableSlot *batch;
	TupleTableSlot *total;
	Numeric		remaining;
	Numeric		held;

	if (!direct_begin(&call, "redemption", redemption_shapes, lengthof(redemption_shapes)))
		return CREDITS_DIRECT_UNAVAILABLE;

	batch = direct_table_slot(&call, DIRECT_BATCHES);
	total = direct_table_slot(&call, DIRECT_TOTALS);
	if (!direct_find_covering_batch(&call, redeem, now, batch, &remaining, &held, total))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}

	direct_draw_batch(&call, batch, credits_numeric_sub(remaining, redeem->amount), held,
					  drawn);
	drawn->operation_id = direct_next_id(DIRECT_OPERATIONS);
	drawn->amount = redeem->amount;

	drawn->total = credits_numeric_sub(numeric_column(total, &direct_total_shape, 0),
									   redeem->amount);
	direct_update_total(&call, &direct_total_shape, total, drawn->total);

	insert_entry_and_operation(&call, redeem, now, drawn);

	direct_end(&call);
	return CREDITS_DIRECT_WRITTEN;
}
