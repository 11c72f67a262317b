/*-------------------------------------------------------------------------
 *
 * direct_capture.c
 *	  The common capture, of an open hold that keeps credits of one batch
 *	  only, written through the table access method (direct_write.c)
 *	  instead of SQL statements: read the hold and its allocation by
 *	  primary key, then spend from the batch what is captured and give it
 *	  the rest back, empty the allocation, insert the operation and the
 *	  ledger entry, lower the running total and close the hold.  It makes
 *	  the same row changes, in the same order, as the statements of a
 *	  capture in holds.c and movement.c, which run instead when
 *	  direct_write.c says the tables need them (triggers, row-level
 *	  security, children, privileges), and for every other hold: unknown
 *	  or closed (they raise the error), paid by a membership, capturing
 *	  more than it holds, keeping credits of several batches, or giving
 *	  back credits of a batch that expired or was voided meanwhile (they
 *	  leave it at once, with their own entry).
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), so no other
 *	  writer touches the account's holds, allocations, batches or running
 *	  total: the versions read are the ones updated.  The tables the
 *	  statements write are locked as the statements lock them, and their
 *	  indexes as direct_write.c says.  A hold that turns out not to be the
 *	  common case keeps those locks for the statements, though a capture
 *	  paid by a membership only reads the batches and allocations.
 *
 *-------------------------------------------------------------------------
 */
#include "direct.h"

#include "access/genam.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"

enum
{
	HOLD_STATUS, HOLD_CREDIT_TYPE, HOLD_SERVICE_ID, HOLD_AMOUNT, HOLD_MEMBERSHIP_ID,
	HOLD_CAPTURED, HOLD_RELEASED, HOLD_CLOSED_AT, HOLD_CLOSED_BY, HOLD_COLUMN_COUNT
};

static const char *const hold_columns[HOLD_COLUMN_COUNT] = {
	"status", "credit_type", "service_id", "amount", "membership_id", "captured",
	"released", "closed_at", "closed_by"
};

static const Oid hold_types[HOLD_COLUMN_COUNT] = {
	DIRECT_ENUM, TEXTOID, INT8OID, NUMERICOID, INT8OID, NUMERICOID,
	NUMERICOID, TIMESTAMPTZOID, INT8OID
};

static DirectShape hold_closed = {
	.table = DIRECT_HOLDS, .privileges = ACL_SELECT | ACL_UPDATE,
	.names = hold_columns, .types = hold_types, .count = HOLD_COLUMN_COUNT
};

enum
{
	ALLOCATION_BATCH_ID, ALLOCATION_REMAINING, ALLOCATION_COLUMN_COUNT
};

static const char *const allocation_columns[ALLOCATION_COLUMN_COUNT] = {
	"batch_id", "remaining"
};

static const Oid allocation_types[ALLOCATION_COLUMN_COUNT] = {INT8OID, NUMERICOID};

static DirectShape allocation_emptied = {
	.table = DIRECT_HOLD_ALLOCATIONS, .privileges = ACL_SELECT | ACL_UPDATE,
	.names = allocation_columns, .types = allocation_types, .count = ALLOCATION_COLUMN_COUNT
};

enum
{
	BATCH_REMAINING, BATCH_HELD, BATCH_IS_OPEN, BATCH_EXPIRES_AT, BATCH_VOIDED_AT,
	BATCH_COLUMN_COUNT
};

static const char *const batch_columns[BATCH_COLUMN_COUNT] = {
	"remaining", "held", "is_open", "expires_at", "voided_at"
};

static const Oid batch_types[BATCH_COLUMN_COUNT] = {
	NUMERICOID, NUMERICOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZOID
};

static DirectShape batch_captured = {
	.table = DIRECT_BATCHES, .privileges = ACL_SELECT | ACL_UPDATE,
	.names = batch_columns, .types = batch_types, .count = BATCH_COLUMN_COUNT
};

static DirectShape *const capture_shapes[] = {
	&hold_closed, &allocation_emptied, &batch_captured, &direct_total_shape,
	&direct_operation_shape, &direct_operation_returned_shape, &direct_entry_shape
};

static bool
is_null(TupleTableSlot *slot, DirectShape *shape, int column)
{
	bool		isnull;

	(void) direct_get(slot, shape, column, &isnull);
	return isnull;
}

/*
 * The hold's one allocation that still keeps credits, into allocation.
 * False if it keeps none or keeps credits of several batches.
 */
static bool
find_only_allocation(DirectCall *call, int64 account_id, int64 hold_id,
					 TupleTableSlot *allocation)
{
	TupleTableSlot *scanned = direct_table_slot(call, DIRECT_HOLD_ALLOCATIONS);
	IndexScanDesc scan = direct_key_scan_begin(call, DIRECT_HOLD_ALLOCATIONS, account_id,
											   hold_id);
	int			keeping = 0;
	bool		isnull;

	while (keeping <= 1 && index_getnext_slot(scan, ForwardScanDirection, scanned))
	{
		Numeric		remaining = DatumGetNumeric(direct_get(scanned, &allocation_emptied,
													   ALLOCATION_REMAINING, &isnull));

		if (credits_numeric_is_zero(remaining))
			continue;
		if (++keeping == 1)
			ExecCopySlot(allocation, scanned);
	}
	direct_key_scan_end(scan);
	return keeping == 1;
}

/*
 * Captures *capture credits of the hold (NULL: all it holds) if it is the
 * common case above.  CREDITS_DIRECT_WRITTEN: done, with the capture's
 * operation, the batch, its expiry and the running total after in *drawn
 * and what was captured in *capture.  CREDITS_DIRECT_SHORT: not the
 * common case, nothing written.  CREDITS_DIRECT_UNAVAILABLE: the tables
 * need the SQL statements, nothing written.  Must be called inside
 * SPI_connect, with the account locked.
 */
CreditsDirectResult
credits_capture_directly(int64 account_id, int64 hold_id, Numeric *capture,
						 text *idempotency_key, const char *request, TimestampTz now,
						 CreditsFirstBatch *drawn)
{
	DirectCall	call;
	TupleTableSlot *hold;
	TupleTableSlot *allocation;
	TupleTableSlot *batch;
	TupleTableSlot *total;
	TupleTableSlot *changed;
	DirectOperationRow operation = {0};
	DirectEntryRow entry = {0};
	Numeric		amount;
	Numeric		kept;
	Numeric		taken;
	Numeric		spent;
	Numeric		remaining;
	Numeric		held;
	Datum		service_id;
	bool		no_service;
	bool		isnull;

	if (!direct_begin(&call, "capture", capture_shapes, lengthof(capture_shapes)))
		return CREDITS_DIRECT_UNAVAILABLE;

	hold = direct_table_slot(&call, DIRECT_HOLDS);
	allocation = direct_table_slot(&call, DIRECT_HOLD_ALLOCATIONS);
	batch = direct_table_slot(&call, DIRECT_BATCHES);
	total = direct_table_slot(&call, DIRECT_TOTALS);
	if (!direct_find_by_key(&call, DIRECT_HOLDS, account_id, hold_id, hold) ||
		DatumGetObjectId(direct_get(hold, &hold_closed, HOLD_STATUS, &isnull)) !=
		direct_label(&hold_closed, HOLD_STATUS, "open") ||
		!is_null(hold, &hold_closed, HOLD_MEMBERSHIP_ID))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}
	amount = DatumGetNumeric(direct_get(hold, &hold_closed, HOLD_AMOUNT, &isnull));
	taken = *capture != NULL ? *capture : amount;
	if (credits_numeric_cmp(taken, amount) > 0 ||
		!find_only_allocation(&call, account_id, hold_id, allocation))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}
	kept = DatumGetNumeric(direct_get(allocation, &allocation_emptied, ALLOCATION_REMAINING,
								  &isnull));
	drawn->batch_id = DatumGetInt64(direct_get(allocation, &allocation_emptied,
										   ALLOCATION_BATCH_ID, &isnull));
	if (credits_numeric_cmp(kept, taken) < 0 ||
		!direct_find_by_key(&call, DIRECT_BATCHES, account_id, drawn->batch_id, batch) ||
		!direct_find_total(&call, account_id,
						   DatumGetTextPP(direct_get(hold, &hold_closed, HOLD_CREDIT_TYPE,
												 &isnull)),
						   total))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}
	drawn->expires_at = DatumGetTimestampTz(direct_get(batch, &batch_captured, BATCH_EXPIRES_AT,
												   &isnull));
	/* what goes back to a batch that expired or was voided leaves it at once */
	if (credits_numeric_cmp(kept, taken) > 0 &&
		(drawn->expires_at <= now ||
		 !is_null(batch, &batch_captured, BATCH_VOIDED_AT)))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}

	/*
	 * What leaves the batch, as the statements take it (holds.c): the least
	 * of what the hold keeps there and the capture, the kept on a tie (the
	 * two may differ in scale, 2.50 and 2.5).  The operation and the hold
	 * record the capture as asked.
	 */
	spent = credits_numeric_min(kept, taken);

	/* the batch first: under REPEATABLE READ a conflict stops everything here */
	remaining = credits_numeric_sub(DatumGetNumeric(direct_get(batch, &batch_captured,
														   BATCH_REMAINING, &isnull)),
									spent);
	held = credits_numeric_sub(DatumGetNumeric(direct_get(batch, &batch_captured, BATCH_HELD,
													  &isnull)),
							   kept);
	changed = direct_changed_row(&call, DIRECT_BATCHES, batch);
	direct_set(changed, &batch_captured, BATCH_REMAINING, NumericGetDatum(remaining), false);
	direct_set(changed, &batch_captured, BATCH_HELD, NumericGetDatum(held), false);
	direct_set(changed, &batch_captured, BATCH_IS_OPEN,
			   BoolGetDatum(credits_numeric_cmp(remaining, held) > 0), false);
	direct_update(&call, DIRECT_BATCHES, batch, changed);

	changed = direct_changed_row(&call, DIRECT_HOLD_ALLOCATIONS, allocation);
	direct_set(changed, &allocation_emptied, ALLOCATION_REMAINING,
			   NumericGetDatum(credits_numeric_zero()), false);
	direct_update(&call, DIRECT_HOLD_ALLOCATIONS, allocation, changed);

	/*
	 * the operation, the ledger entry and the running total, in the order
	 * the statement recording them writes them (its WITH queries that
	 * nothing reads run to completion after the rest, the last one first)
	 */
	drawn->operation_id = direct_next_id(DIRECT_OPERATIONS);
	drawn->total = credits_numeric_sub(DatumGetNumeric(direct_get(total, &direct_total_shape, 0,
															  &isnull)),
									   spent);
	service_id = direct_get(hold, &hold_closed, HOLD_SERVICE_ID, &no_service);
	operation.account_id = account_id;
	operation.operation_id = drawn->operation_id;
	operation.kind = "capture_hold";
	operation.idempotency_key = idempotency_key;
	operation.request = request;
	operation.amount = taken;
	operation.credit_type = DatumGetTextPP(direct_get(hold, &hold_closed, HOLD_CREDIT_TYPE,
												  &isnull));
	operation.writes_service_id = true;
	operation.has_service = !no_service;
	operation.service_id = no_service ? 0 : DatumGetInt64(service_id);
	operation.created_at = now;
	operation.balance_after = drawn->total;
	operation.writes_links = true;
	operation.hold_id = hold_id;
	direct_insert_operation(&call, &operation);

	entry.account_id = account_id;
	entry.operation_id = drawn->operation_id;
	entry.entry_no = 1;
	entry.kind = "redeem";
	entry.batch_id = drawn->batch_id;
	entry.credit_type = operation.credit_type;
	entry.delta = credits_numeric_sub(credits_numeric_zero(), spent);
	entry.balance_after = drawn->total;
	entry.writes_service_id = true;
	entry.has_service = operation.has_service;
	entry.service_id = operation.service_id;
	entry.created_at = now;
	direct_insert_entry(&call, &entry);

	direct_update_total(&call, &direct_total_shape, total, drawn->total);

	changed = direct_changed_row(&call, DIRECT_HOLDS, hold);
	direct_set(changed, &hold_closed, HOLD_STATUS,
			   ObjectIdGetDatum(direct_label(&hold_closed, HOLD_STATUS, "captured")), false);
	direct_set(changed, &hold_closed, HOLD_CAPTURED, NumericGetDatum(taken), false);
	direct_set(changed, &hold_closed, HOLD_RELEASED,
			   NumericGetDatum(credits_numeric_sub(amount, taken)), false);
	direct_set(changed, &hold_closed, HOLD_CLOSED_AT, TimestampTzGetDatum(now), false);
	direct_set(changed, &hold_closed, HOLD_CLOSED_BY, Int64GetDatum(drawn->operation_id),
			   false);
	direct_update(&call, DIRECT_HOLDS, hold, changed);

	/* copied: the rows read are gone with the call */
	*capture = DatumGetNumeric(datumCopy(NumericGetDatum(taken), false, -1));
	drawn->amount = DatumGetNumeric(datumCopy(NumericGetDatum(spent), false, -1));
	direct_end(&call);
	return CREDITS_DIRECT_WRITTEN;
}
