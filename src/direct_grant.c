/*-------------------------------------------------------------------------
 *
 * direct_grant.c
 *	  A grant of a new batch written through the table access method
 *	  (direct_write.c) instead of a SQL statement: raise the running total
 *	  in place, insert the operation, the batch, (for a package) the sale
 *	  and the batch's ledger entry.  It makes the same row changes, in the
 *	  same order, as the statement write_grant in grant.c, which runs instead
 *	  when direct_write.c says the tables need it (triggers, row-level
 *	  security, children, privileges), and when the account has no
 *	  running total of the credit type yet: the statement's
 *	  INSERT ... ON CONFLICT creates it, with the checks that go with it.
 *
 * Locking
 *	  The caller holds the account's row lock (accounts.c), so no other
 *	  writer touches the account's running total: the version read is the
 *	  one updated.  The new rows are seen by no one before commit.  The
 *	  tables written (four, or five with a sale) are locked as the
 *	  statement locks them, and their indexes as direct_write.c says.
 *
 *-------------------------------------------------------------------------
 */
#include "direct.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

static const char *const total_columns[] = {"total"};
static const Oid total_types[] = {NUMERICOID};

/* the statement is an INSERT ... ON CONFLICT DO UPDATE: it needs all three */
static DirectShape total_raised = {
	.table = DIRECT_TOTALS, .privileges = ACL_SELECT | ACL_INSERT | ACL_UPDATE,
	.names = total_columns, .types = total_types, .count = 1
};

enum
{
	BATCH_ACCOUNT_ID, BATCH_BATCH_ID, BATCH_CREDIT_TYPE, BATCH_SOURCE, BATCH_PACKAGE_ID,
	BATCH_AMOUNT, BATCH_REMAINING, BATCH_IS_OPEN, BATCH_VALID_FROM, BATCH_EXPIRES_AT,
	BATCH_SERVICE_IDS, BATCH_REFERENCE, BATCH_OPERATION_ID, BATCH_CREATED_AT,
	BATCH_COLUMN_COUNT
};

static const char *const batch_columns[BATCH_COLUMN_COUNT] = {
	"account_id", "batch_id", "credit_type", "source", "package_id", "amount",
	"remaining", "is_open", "valid_from", "expires_at", "service_ids", "reference",
	"operation_id", "created_at"
};

static const Oid batch_types[BATCH_COLUMN_COUNT] = {
	INT8OID, INT8OID, TEXTOID, DIRECT_ENUM, INT8OID, NUMERICOID,
	NUMERICOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8ARRAYOID, TEXTOID,
	INT8OID, TIMESTAMPTZOID
};

/* the statement reads the batch's id back (RETURNING) */
static DirectShape new_batch = {
	.table = DIRECT_BATCHES, .insert = true, .privileges = ACL_INSERT | ACL_SELECT,
	.names = batch_columns, .types = batch_types, .count = BATCH_COLUMN_COUNT
};

enum
{
	SALE_ACCOUNT_ID, SALE_OPERATION_ID, SALE_PACKAGE_ID, SALE_BATCH_ID, SALE_CREDITS,
	SALE_PRICE, SALE_CURRENCY, SALE_COUNTRY, SALE_PAYMENT_REF, SALE_SOLD_AT,
	SALE_COLUMN_COUNT
};

static const char *const sale_columns[SALE_COLUMN_COUNT] = {
	"account_id", "operation_id", "package_id", "batch_id", "credits", "price",
	"currency", "country", "payment_ref", "sold_at"
};

static const Oid sale_types[SALE_COLUMN_COUNT] = {
	INT8OID, INT8OID, INT8OID, INT8OID, NUMERICOID, NUMERICOID,
	TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID
};

static DirectShape new_sale = {
	.table = DIRECT_SALES, .insert = true, .privileges = ACL_INSERT,
	.names = sale_columns, .types = sale_types, .count = SALE_COLUMN_COUNT
};

/* The sale last: a grant without a package writes none, and opens no sales table */
static DirectShape *const grant_shapes[] = {
	&total_raised, &direct_operation_shape, &direct_operation_returned_shape, &new_batch,
	&direct_entry_shape, &new_sale
};

static void
insert_batch(DirectCall *call, const CreditsGrant *grant, int64 operation_id,
			 int64 batch_id, TimestampTz now)
{
	DirectShape *shape = &new_batch;
	TupleTableSlot *row = direct_new_row(call, shape, 0);

	direct_set(row, shape, BATCH_ACCOUNT_ID, Int64GetDatum(grant->account_id), false);
	direct_set(row, shape, BATCH_BATCH_ID, Int64GetDatum(batch_id), false);
	direct_set(row, shape, BATCH_CREDIT_TYPE, PointerGetDatum(grant->credit_type), false);
	direct_set(row, shape, BATCH_SOURCE,
			   ObjectIdGetDatum(direct_label(shape, BATCH_SOURCE, grant->source)), false);
	direct_set(row, shape, BATCH_PACKAGE_ID, Int64GetDatum(grant->package_id),
			   !grant->has_package);
	direct_set(row, shape, BATCH_AMOUNT, NumericGetDatum(grant->amount), false);
	direct_set(row, shape, BATCH_REMAINING, NumericGetDatum(grant->amount), false);
	direct_set(row, shape, BATCH_IS_OPEN, BoolGetDatum(true), false);
	direct_set(row, shape, BATCH_VALID_FROM, TimestampTzGetDatum(grant->valid_from), false);
	direct_set(row, shape, BATCH_EXPIRES_AT, TimestampTzGetDatum(grant->expires_at), false);
	direct_set(row, shape, BATCH_SERVICE_IDS, PointerGetDatum(grant->service_ids),
			   grant->service_ids == NULL);
	direct_set(row, shape, BATCH_REFERENCE, PointerGetDatum(grant->reference),
			   grant->reference == NULL);
	direct_set(row, shape, BATCH_OPERATION_ID, Int64GetDatum(operation_id), false);
	direct_set(row, shape, BATCH_CREATED_AT, TimestampTzGetDatum(now), false);
	direct_insert(call, DIRECT_BATCHES, row);
}

static void
insert_sale(DirectCall *call, const CreditsGrant *grant, int64 operation_id,
			int64 batch_id, TimestampTz now)
{
	DirectShape *shape = &new_sale;
	TupleTableSlot *row = direct_new_row(call, shape, 0);

	direct_set(row, shape, SALE_ACCOUNT_ID, Int64GetDatum(grant->account_id), false);
	direct_set(row, shape, SALE_OPERATION_ID, Int64GetDatum(operation_id), false);
	direct_set(row, shape, SALE_PACKAGE_ID, Int64GetDatum(grant->package_id), false);
	direct_set(row, shape, SALE_BATCH_ID, Int64GetDatum(batch_id), false);
	direct_set(row, shape, SALE_CREDITS, NumericGetDatum(grant->amount), false);
	direct_set(row, shape, SALE_PRICE, NumericGetDatum(grant->price), false);
	direct_set(row, shape, SALE_CURRENCY, PointerGetDatum(grant->currency),
			   grant->currency == NULL);
	direct_set(row, shape, SALE_COUNTRY, PointerGetDatum(grant->country),
			   grant->country == NULL);
	direct_set(row, shape, SALE_PAYMENT_REF, PointerGetDatum(grant->reference),
			   grant->reference == NULL);
	direct_set(row, shape, SALE_SOLD_AT, TimestampTzGetDatum(now), false);
	direct_insert(call, DIRECT_SALES, row);
}

/*
 * Writes the grant, with grant->expires_at final.  CREDITS_DIRECT_WRITTEN:
 * done, *batch_id is the new batch.  CREDITS_DIRECT_UNAVAILABLE: nothing
 * written, the SQL statement must do it.  Must be called inside
 * SPI_connect, with the account locked.
 */
CreditsDirectResult
credits_grant_directly(const CreditsGrant *grant, TimestampTz now, int64 *batch_id)
{
	DirectCall	call;
	DirectOperationRow operation = {0};
	DirectEntryRow entry = {0};
	TupleTableSlot *total;
	Numeric		after;
	bool		isnull;

	if (!direct_begin(&call, "grant", grant_shapes,
					  lengthof(grant_shapes) - (grant->has_package ? 0 : 1)))
		return CREDITS_DIRECT_UNAVAILABLE;

	/* the running total first: under REPEATABLE READ a conflict stops here */
	total = direct_table_slot(&call, DIRECT_TOTALS);
	if (!direct_find_total(&call, grant->account_id, grant->credit_type, total))
	{
		direct_end(&call);
		return CREDITS_DIRECT_UNAVAILABLE;
	}
	after = credits_numeric_add(DatumGetNumeric(direct_get(total, &total_raised, 0, &isnull)),
								grant->amount);
	direct_update_total(&call, &total_raised, total, after);

	operation.account_id = grant->account_id;
	operation.operation_id = direct_next_id(DIRECT_OPERATIONS);
	operation.kind = grant->kind;
	operation.idempotency_key = grant->idempotency_key;
	operation.request = grant->request;
	operation.amount = grant->amount;
	operation.credit_type = grant->credit_type;
	operation.writes_package_id = true;
	operation.has_package = grant->has_package;
	operation.package_id = grant->package_id;
	operation.reference = grant->reference;
	operation.created_at = now;
	operation.balance_after = after;
	direct_insert_operation(&call, &operation);

	*batch_id = direct_next_id(DIRECT_BATCHES);
	insert_batch(&call, grant, operation.operation_id, *batch_id, now);

	entry.account_id = grant->account_id;
	entry.operation_id = operation.operation_id;
	entry.entry_no = 1;
	entry.kind = "grant";
	entry.batch_id = *batch_id;
	entry.credit_type = grant->credit_type;
	entry.delta = grant->amount;
	entry.balance_after = after;
	entry.reference = grant->reference;
	entry.created_at = now;
	/*
	 * the sale before the entry: the statement's WITH queries that nothing
	 * reads run to completion after the rest, the last one first
	 */
	if (grant->has_package)
		insert_sale(&call, grant, operation.operation_id, *batch_id, now);
	direct_insert_entry(&call, &entry);

	direct_end(&call);
	return CREDITS_DIRECT_WRITTEN;
}
