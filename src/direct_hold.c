/*-------------------------------------------------------------------------
 *
 * direct_hold.c
 *	  The common hold, from one batch that covers the amount, written
 *	  through the table access method (direct_write.c) instead of SQL
 *	  statements: find the first spendable batch (direct_redeem.c), raise
 *	  what it holds, insert the operation, the hold and its one allocation.
 *	  It makes the same row changes, in the same order, as the statements
 *	  of a hold in holds.c and movement.c (the batch changed by primary
 *	  key, the operation recorded with the running total unchanged and no
 *	  ledger entry, then the allocation and the hold), which run instead
 *	  when direct_write.c says the tables need them (triggers, row-level
 *	  security, children, privileges), and when the first batch is short.
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), so no other
 *	  writer touches the account's batches: the version read is the one
 *	  updated.  The tables the statements write (the batches, the running
 *	  totals, the operations, the ledger, the holds and their allocations)
 *	  are locked as the statements lock them, and their indexes as
 *	  direct_write.c says.
 *
 *-------------------------------------------------------------------------
 */
#include "direct.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"

/*
 * The running total is only read (direct_total_shape): the hold moves no
 * credits.  The statement that records the operation also names the
 * update of the total and the insert of the ledger entries (for none),
 * and needs what they need.
 */
static DirectShape no_entries = {
	.table = DIRECT_LEDGER, .privileges = ACL_INSERT
};

enum
{
	HOLD_ACCOUNT_ID, HOLD_HOLD_ID, HOLD_CREDIT_TYPE, HOLD_SERVICE_ID, HOLD_QUANTITY,
	HOLD_AMOUNT, HOLD_HOLD_UNTIL, HOLD_MEMBERSHIP_ID, HOLD_REFERENCE, HOLD_CREATED_AT,
	HOLD_COLUMN_COUNT
};

static const char *const hold_columns[HOLD_COLUMN_COUNT] = {
	"account_id", "hold_id", "credit_type", "service_id", "quantity", "amount",
	"hold_until", "membership_id", "reference", "created_at"
};

static const Oid hold_types[HOLD_COLUMN_COUNT] = {
	INT8OID, INT8OID, TEXTOID, INT8OID, INT4OID, NUMERICOID,
	TIMESTAMPTZOID, INT8OID, TEXTOID, TIMESTAMPTZOID
};

static DirectShape new_hold = {
	.table = DIRECT_HOLDS, .insert = true, .privileges = ACL_INSERT,
	.names = hold_columns, .types = hold_types, .count = HOLD_COLUMN_COUNT
};

enum
{
	ALLOCATION_ACCOUNT_ID, ALLOCATION_HOLD_ID, ALLOCATION_BATCH_ID, ALLOCATION_ENTRY_NO,
	ALLOCATION_AMOUNT, ALLOCATION_REMAINING, ALLOCATION_COLUMN_COUNT
};

static const char *const allocation_columns[ALLOCATION_COLUMN_COUNT] = {
	"account_id", "hold_id", "batch_id", "entry_no", "amount", "remaining"
};

static const Oid allocation_types[ALLOCATION_COLUMN_COUNT] = {
	INT8OID, INT8OID, INT8OID, INT4OID, NUMERICOID, NUMERICOID
};

static DirectShape new_allocation = {
	.table = DIRECT_HOLD_ALLOCATIONS, .insert = true, .privileges = ACL_INSERT,
	.names = allocation_columns, .types = allocation_types, .count = ALLOCATION_COLUMN_COUNT
};

static DirectShape *const hold_shapes[] = {
	&direct_spendable_batch_shape, &direct_total_shape, &direct_operation_shape,
	&direct_operation_returned_shape, &no_entries, &new_allocation, &new_hold
};

/* The operation that placed the hold: the running total as it stays */
static void
insert_operation(DirectCall *call, const CreditsDrawRequest *hold, TimestampTz now,
				 const CreditsFirstBatch *drawn)
{
	DirectOperationRow operation = {0};

	operation.account_id = hold->account_id;
	operation.operation_id = drawn->operation_id;
	operation.kind = hold->kind;
	operation.idempotency_key = hold->idempotency_key;
	operation.request = hold->request;
	operation.amount = hold->amount;
	operation.credit_type = hold->credit_type;
	operation.writes_service_id = true;
	operation.has_service = hold->has_service;
	operation.service_id = hold->service_id;
	operation.reference = hold->reference;
	operation.created_at = now;
	operation.balance_after = drawn->total;
	operation.writes_links = true;	/* none: no refund, hold or membership */
	direct_insert_operation(call, &operation);
}

/*
 * What the hold took from the batch, then the hold, whose id is its
 * operation's: in the order the statement writes them (its WITH query
 * inserting the hold runs after the main query inserting the allocations)
 */
static void
insert_hold(DirectCall *call, const CreditsDrawRequest *hold, TimestampTz now,
			const CreditsFirstBatch *drawn)
{
	DirectShape *shape = &new_allocation;
	TupleTableSlot *row = direct_new_row(call, shape, 0);

	direct_set(row, shape, ALLOCATION_ACCOUNT_ID, Int64GetDatum(hold->account_id), false);
	direct_set(row, shape, ALLOCATION_HOLD_ID, Int64GetDatum(drawn->operation_id), false);
	direct_set(row, shape, ALLOCATION_BATCH_ID, Int64GetDatum(drawn->batch_id), false);
	direct_set(row, shape, ALLOCATION_ENTRY_NO, Int32GetDatum(1), false);
	direct_set(row, shape, ALLOCATION_AMOUNT, NumericGetDatum(drawn->amount), false);
	direct_set(row, shape, ALLOCATION_REMAINING, NumericGetDatum(drawn->amount), false);
	direct_insert(call, DIRECT_HOLD_ALLOCATIONS, row);

	shape = &new_hold;
	row = direct_new_row(call, shape, 0);
	direct_set(row, shape, HOLD_ACCOUNT_ID, Int64GetDatum(hold->account_id), false);
	direct_set(row, shape, HOLD_HOLD_ID, Int64GetDatum(drawn->operation_id), false);
	direct_set(row, shape, HOLD_CREDIT_TYPE, PointerGetDatum(hold->credit_type), false);
	direct_set(row, shape, HOLD_SERVICE_ID, Int64GetDatum(hold->service_id),
			   !hold->has_service);
	direct_set(row, shape, HOLD_QUANTITY, Int32GetDatum(hold->quantity),
			   hold->quantity == 0);
	direct_set(row, shape, HOLD_AMOUNT, NumericGetDatum(hold->amount), false);
	direct_set(row, shape, HOLD_HOLD_UNTIL, TimestampTzGetDatum(hold->hold_until),
			   !hold->has_hold_until);
	direct_set(row, shape, HOLD_MEMBERSHIP_ID, Int64GetDatum(0), true);
	direct_set(row, shape, HOLD_REFERENCE, PointerGetDatum(hold->reference),
			   hold->reference == NULL);
	direct_set(row, shape, HOLD_CREATED_AT, TimestampTzGetDatum(now), false);
	direct_insert(call, DIRECT_HOLDS, row);
}

/*
 * Holds hold->amount from the first spendable batch alone, if it covers
 * it.  CREDITS_DIRECT_WRITTEN: done, with the hold (its operation), the
 * batch, its expiry and the running total in *drawn.
 * CREDITS_DIRECT_SHORT: the first batch does not cover the amount (or
 * there is none), nothing written.  CREDITS_DIRECT_UNAVAILABLE: the
 * tables need the SQL statements, nothing written.  Must be called inside
 * SPI_connect, with the account locked.
 */
CreditsDirectResult
credits_hold_first_batch_directly(const CreditsDrawRequest *hold, TimestampTz now,
								  CreditsFirstBatch *drawn)
{
	DirectCall	call;
	TupleTableSlot *batch;
	TupleTableSlot *total;
	Numeric		remaining;
	Numeric		held;
	bool		isnull;

	if (!direct_begin(&call, "hold", hold_shapes, lengthof(hold_shapes)))
		return CREDITS_DIRECT_UNAVAILABLE;

	batch = direct_table_slot(&call, DIRECT_BATCHES);
	total = direct_table_slot(&call, DIRECT_TOTALS);
	if (!direct_find_covering_batch(&call, hold, now, batch, &remaining, &held, total))
	{
		direct_end(&call);
		return CREDITS_DIRECT_SHORT;
	}

	/*
	 * What is taken, as the draw takes it (draw.c): the least of what the
	 * batch can give and the amount, the batch's own on a tie (the two may
	 * differ in scale, 2.50 and 2.5).
	 */
	drawn->amount = credits_numeric_min(credits_numeric_sub(remaining, held), hold->amount);

	direct_draw_batch(&call, batch, remaining, credits_numeric_add(held, drawn->amount), drawn);

	drawn->operation_id = direct_next_id(DIRECT_OPERATIONS);
	/* copied: the row read is gone with the call */
	drawn->total = DatumGetNumeric(datumCopy(direct_get(total, &direct_total_shape, 0, &isnull),
											 false, -1));
	insert_operation(&call, hold, now, drawn);
	insert_hold(&call, hold, now, drawn);

	direct_end(&call);
	return CREDITS_DIRECT_WRITTEN;
}
