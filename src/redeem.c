/*-------------------------------------------------------------------------
 *
 * redeem.c
 *	  credits.redeem_credits and credits.redeem_service: spend an amount
 *	  earliest-expiry-first across as many batches as it takes, all or
 *	  nothing.  redeem_service lets an active membership that covers the
 *	  service pay first, drawing no credits.
 *
 * Locking
 *	  After the arguments (and the service) are checked, the account row is
 *	  locked FOR UPDATE (accounts.c).  Then, in statements that each see
 *	  what was committed before the lock was granted: the idempotency key
 *	  is looked up; a covering membership is looked for (redeem_service);
 *	  then, when the first spendable batch in consumption order covers the
 *	  amount (the common case), it is drawn from and its ledger entry, the
 *	  running total and the operation are written through the table access
 *	  method (direct_redeem.c, same locks as the statements), or by one
 *	  statement when a table has triggers, so that the account is held for
 *	  as short a time as possible; otherwise (or if the first batch is
 *	  short, and nothing was written) the
 *	  spendable batches are read in consumption order (draw.c), each batch
 *	  drawn is updated by primary key, and one statement records the
 *	  operation, its ledger entries and the running total (movement.c).
 *	  Batches are not locked separately: every writer of an account's
 *	  batches holds its account's row lock.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(credits_redeem_credits);
PG_FUNCTION_INFO_V1(credits_redeem_service);


/*
 * A redemption from the first spendable batch alone, if it covers the
 * amount: $1 account, $2 credit type, $3 service, $4 now, $5 amount,
 * $6 operation kind, $7 key, $8 request, $9 reference.  Every write hangs
 * on the batch drawn, so a first batch that is short writes nothing and
 * returns no row.  The batch is drawn first (a serialization error under
 * REPEATABLE READ comes before anything else is written).
 *
 * The batch found is updated by its ctid, not looked up again by key: the
 * account lock keeps every other writer off it, so the version read is
 * the one updated (were it not, the TID scan would find no row and
 * nothing would be written).  Each step hands on what the next needs in
 * its RETURNING list, so the statement joins nothing but the batch.
 */
static CreditsStatement redeem_from_first_batch = {
	.sql = "WITH first AS ("
	"  SELECT b.ctid, b.remaining - b.held AS available, b.expires_at"
	"  FROM credits.batches AS b"
	"  WHERE " CREDITS_SPENDABLE_BATCH
	"  ORDER BY " CREDITS_CONSUMPTION_ORDER
	"  LIMIT 1"
	"), drawn AS ("
	"  UPDATE credits.batches AS b"
	"  SET remaining = b.remaining - $5, is_open = b.remaining - $5 > b.held"
	"  FROM first"
	"  WHERE b.ctid = first.ctid AND b.account_id = $1 AND first.available >= $5"
	"  RETURNING b.batch_id, first.expires_at,"
	"    pg_catalog.nextval('credits.operation_id_seq') AS operation_id"
	"), total AS ("
	"  UPDATE credits.account_totals AS t SET total = t.total - $5"
	"  FROM drawn WHERE t.account_id = $1 AND t.credit_type = $2"
	"  RETURNING drawn.operation_id, drawn.batch_id, drawn.expires_at, t.total"
	"), operation AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key,"
	"    request, amount, credit_type, service_id, reference, created_at, balance_after)"
	"  SELECT $1, total.operation_id, $6::text::credits.operation_kind,"
	"    $7, $8, $5, $2, $3, $9, $4, total.total FROM total"
	"), entry AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, service_id, reference, created_at)"
	"  SELECT $1, total.operation_id, 1, 'redeem', total.batch_id, $2, -$5,"
	"    total.total, $3, $9, $4 FROM total"
	")"
	" SELECT total.operation_id, total.batch_id, total.expires_at, total.total FROM total",
	.nargs = 9,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID, NUMERICOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID}
};

static CreditsStatement prior_allocations = {
	.sql = "SELECT l.batch_id, -l.delta, b.expires_at"
	" FROM credits.ledger AS l"
	" JOIN credits.batches AS b ON b.account_id = l.account_id AND b.batch_id = l.batch_id"
	" WHERE l.account_id = $1 AND l.operation_id = $2"
	" ORDER BY l.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * The result of an earlier call with the same key, rebuilt from its
 * operation and ledger entries.
 */
static Datum
replay_redemption(FunctionCallInfo fcinfo, const CreditsDrawRequest *redeem,
				  const CreditsPriorOperation *prior, MemoryContext result_context)
{
	CreditsAllocations allocations;
	Datum		keys[2];
	uint64		rows;
	bool		isnull;
	MemoryContext old;
	Datum		result;

	keys[0] = Int64GetDatum(redeem->account_id);
	keys[1] = Int64GetDatum(prior->operation_id);
	rows = credits_execute(&prior_allocations, keys, NULL, 0);

	credits_allocations_init(&allocations);
	for (uint64 i = 0; i < rows; i++)
		credits_allocations_add(&allocations, credits_result_int64(i, 1),
								credits_result_numeric(i, 2),
								DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)));

	old = MemoryContextSwitchTo(result_context);
	result = credits_redemption_datum(fcinfo, prior->operation_id, prior->amount,
									  prior->balance_after, &allocations,
									  prior->membership_id);
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * Tries the redemption from the first spendable batch alone: through the
 * table access method (direct_redeem.c) when the tables allow it, else
 * with the statement redeem_from_first_batch.  True, with the operation,
 * the batch drawn and the running total after, if that batch covered the
 * amount and everything is written; false if nothing was written.
 */
static bool
redeem_from_first(const CreditsDrawRequest *redeem, TimestampTz now,
				  CreditsAllocations *allocations, int64 *operation_id, Numeric *total)
{
	CreditsFirstBatch drawn;
	Datum		values[9];
	char		nulls[9];
	bool		isnull;

	switch (credits_redeem_first_batch_directly(redeem, now, &drawn))
	{
		case CREDITS_DIRECT_WRITTEN:
			*operation_id = drawn.operation_id;
			credits_allocations_add(allocations, drawn.batch_id, drawn.amount,
									drawn.expires_at);
			*total = drawn.total;
			return true;
		case CREDITS_DIRECT_SHORT:
			return false;
		case CREDITS_DIRECT_UNAVAILABLE:
			break;
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(redeem->account_id);
	values[1] = PointerGetDatum(redeem->credit_type);
	values[2] = Int64GetDatum(redeem->service_id);
	nulls[2] = redeem->has_service ? ' ' : 'n';
	values[3] = TimestampTzGetDatum(now);
	values[4] = NumericGetDatum(redeem->amount);
	values[5] = CStringGetTextDatum(redeem->kind);
	values[6] = PointerGetDatum(redeem->idempotency_key);
	nulls[6] = redeem->idempotency_key ? ' ' : 'n';
	values[7] = CStringGetTextDatum(redeem->request);
	values[8] = PointerGetDatum(redeem->reference);
	nulls[8] = redeem->reference ? ' ' : 'n';

	if (credits_execute(&redeem_from_first_batch, values, nulls, 0) == 0)
		return false;
	*operation_id = credits_result_int64(0, 1);
	credits_allocations_add(allocations, credits_result_int64(0, 2), redeem->amount,
							DatumGetTimestampTz(credits_result_datum(0, 3, &isnull)));
	*total = credits_result_numeric(0, 4);
	return true;
}

/*
 * result_context is the caller's memory, taken before SPI_connect: the
 * result must outlive SPI_finish.
 */
static Datum
credits_redeem(FunctionCallInfo fcinfo, CreditsDrawRequest *redeem,
               MemoryContext result_context)
{
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsAllocations allocations;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	Numeric		total;
	Numeric		missing;
	Numeric		spent = redeem->amount;
	TimestampTz now;
	int64		membership_id = 0;
	int64		operation_id;
	Datum		result;
	MemoryContext old;

	credits_lock_account(redeem->account_id, false, &account);

	if (credits_find_prior_operation(redeem->account_id, redeem->idempotency_key,
									 redeem->request, &prior))
		return replay_redemption(fcinfo, redeem, &prior, result_context);

	credits_require_member(&account, "spend");

	now = credits_now();
	credits_allocations_init(&allocations);
	if (redeem->quantity > 0)
		membership_id = credits_find_active_membership(redeem->account_id,
													   redeem->service_id, now);
	if (membership_id == 0 &&
		redeem_from_first(redeem, now, &allocations, &operation_id, &total))
	{
		old = MemoryContextSwitchTo(result_context);
		result = credits_redemption_datum(fcinfo, operation_id, redeem->amount, total,
										  &allocations, 0);
		MemoryContextSwitchTo(old);
		return result;
	}

	if (membership_id != 0)
	{
		/* the membership pays: no credits drawn */
		spent = credits_numeric_zero();
		total = credits_running_total(redeem->account_id, redeem->credit_type);
	}
	else
	{
		missing = credits_draw_spendable(redeem->account_id, redeem->credit_type,
										 redeem->has_service, redeem->service_id,
										 redeem->amount, now, &allocations, &total);
		if (!credits_numeric_is_zero(missing))
			credits_report_shortfall(redeem->account_id, redeem->credit_type,
									 redeem->has_service, redeem->service_id,
									 redeem->amount, missing, now);
	}

	credits_movement_start(&movement, redeem->account_id, redeem->credit_type, total, now);
	for (int i = 0; i < allocations.count; i++)
	{
		Numeric		drawn = credits_numeric_sub(credits_numeric_zero(), allocations.amounts[i]);

		credits_movement_change_batch(&movement, allocations.batch_ids[i], drawn, NULL);
		credits_movement_entry(&movement, "redeem", allocations.batch_ids[i], drawn);
	}
	operation.kind = redeem->kind;
	operation.idempotency_key = redeem->idempotency_key;
	operation.request = redeem->request;
	operation.amount = spent;
	operation.has_service = redeem->has_service;
	operation.service_id = redeem->service_id;
	operation.reference = redeem->reference;
	operation.membership_id = membership_id;
	operation_id = credits_movement_finish(&movement, &operation);
	if (membership_id != 0)
		credits_record_visit(redeem->account_id, operation_id, membership_id,
							 redeem->service_id, redeem->quantity, redeem->reference, now);

	old = MemoryContextSwitchTo(result_context);
	result = credits_redemption_datum(fcinfo, operation_id, spent, movement.total,
									  &allocations, membership_id);
	MemoryContextSwitchTo(old);
	return result;
}

Datum
credits_redeem_credits(PG_FUNCTION_ARGS)
{
	MemoryContext caller_context = CurrentMemoryContext;
	CreditsDrawRequest redeem = {0};
	StringInfoData request;
	Datum		result;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "amount");
	credits_require_arg(fcinfo, 2, "credit_type");

	redeem.kind = "redeem_credits";
	redeem.account_id = PG_GETARG_INT64(0);
	redeem.amount = credits_checked_amount(PG_GETARG_NUMERIC(1), "amount");
	redeem.credit_type = PG_GETARG_TEXT_PP(2);
	redeem.has_service = !PG_ARGISNULL(3);
	redeem.service_id = redeem.has_service ? PG_GETARG_INT64(3) : 0;
	redeem.reference = credits_optional_text(fcinfo, 4);
	redeem.idempotency_key = credits_optional_text(fcinfo, 5);

	credits_request_start(&request, redeem.kind);
	credits_request_add_numeric(&request, "amount", redeem.amount);
	credits_request_add_text(&request, "credit_type", redeem.credit_type);
	credits_request_add_int64(&request, "service_id", !redeem.has_service, redeem.service_id);
	credits_request_add_text(&request, "reference", redeem.reference);
	redeem.request = request.data;

	SPI_connect();

	if (redeem.has_service)
		credits_check_service_for(redeem.service_id, redeem.credit_type);

	result = credits_redeem(fcinfo, &redeem, caller_context);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
credits_redeem_service(PG_FUNCTION_ARGS)
{
	MemoryContext caller_context = CurrentMemoryContext;
	CreditsDrawRequest redeem = {0};
	StringInfoData request;
	Datum		result;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "service_id");
	credits_require_arg(fcinfo, 2, "quantity");

	redeem.kind = "redeem_service";
	redeem.account_id = PG_GETARG_INT64(0);
	redeem.has_service = true;
	redeem.service_id = PG_GETARG_INT64(1);
	redeem.quantity = PG_GETARG_INT32(2);
	redeem.reference = credits_optional_text(fcinfo, 3);
	redeem.idempotency_key = credits_optional_text(fcinfo, 4);
	credits_check_quantity(redeem.quantity);

	SPI_connect();

	redeem.amount = credits_price_service(redeem.service_id, redeem.quantity,
										  &redeem.credit_type);

	credits_request_start(&request, redeem.kind);
	credits_request_add_int64(&request, "service_id", false, redeem.service_id);
	credits_request_add_int64(&request, "quantity", false, redeem.quantity);
	credits_request_add_text(&request, "reference", redeem.reference);
	redeem.request = request.data;

	result = credits_redeem(fcinfo, &redeem, caller_context);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
