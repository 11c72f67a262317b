/*-------------------------------------------------------------------------
 *
 * refunds.c
 *	  Giving redeemed credits back, and taking credits away:
 *	  credits.refund_redemption returns credits to the batches a
 *	  redemption drew from (a partial refund to the batches that expire
 *	  last first, which favours the customer), never more than was
 *	  redeemed; credits.void_batch zeroes what is left of a batch (a
 *	  chargeback).  Credits returned to a batch that has expired or been
 *	  voided meanwhile leave it again at once (expire or void entries).
 *
 * Locking
 *	  Both lock the account row first (accounts.c), then read the
 *	  redemption's entries or the batch; partial refunds of one redemption
 *	  therefore queue, and each sees what the others returned.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(credits_refund_redemption);
PG_FUNCTION_INFO_V1(credits_void_batch);

static CreditsStatement read_redemption = {
	.sql = "SELECT o.amount, o.credit_type, o.service_id, o.membership_id"
	" FROM credits.operations AS o"
	" WHERE o.account_id = $1 AND o.operation_id = $2"
	" AND o.kind IN ('redeem_credits', 'redeem_service', 'capture_hold')",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * What can still be returned to each batch a redemption drew from: drawn
 * less what refunds of it (operations with refund_of = it) returned, in
 * the order a partial refund fills them: the batch that expires last
 * first.
 */
static CreditsStatement refundable_batches = {
	.sql = "SELECT d.batch_id, d.drawn - COALESCE(r.returned, 0), b.expires_at,"
	" b.voided_at IS NOT NULL"
	" FROM (SELECT l.batch_id, -pg_catalog.sum(l.delta) AS drawn FROM credits.ledger AS l"
	"       WHERE l.account_id = $1 AND l.operation_id = $2 AND l.kind = 'redeem'"
	"       GROUP BY l.batch_id) AS d"
	" LEFT JOIN (SELECT l.batch_id, pg_catalog.sum(l.delta) AS returned"
	"            FROM credits.operations AS o"
	"            JOIN credits.ledger AS l"
	"              ON l.account_id = o.account_id AND l.operation_id = o.operation_id"
	"            WHERE o.account_id = $1 AND o.refund_of = $2 AND l.kind = 'refund'"
	"            GROUP BY l.batch_id) AS r ON r.batch_id = d.batch_id"
	" JOIN credits.batches AS b ON b.account_id = $1 AND b.batch_id = d.batch_id"
	" WHERE d.drawn > COALESCE(r.returned, 0)"
	" ORDER BY b.expires_at DESC, b.valid_from DESC, b.batch_id DESC",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement refund_entries = {
	.sql = "SELECT l.batch_id, l.delta, b.expires_at"
	" FROM credits.ledger AS l"
	" JOIN credits.batches AS b ON b.account_id = l.account_id AND b.batch_id = l.batch_id"
	" WHERE l.account_id = $1 AND l.operation_id = $2 AND l.kind = 'refund'"
	" ORDER BY l.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement read_batch = {
	.sql = "SELECT b.remaining - b.held, b.credit_type, b.voided_at IS NOT NULL"
	" FROM credits.batches AS b WHERE b.account_id = $1 AND b.batch_id = $2",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement mark_voided = {
	.sql = "UPDATE credits.batches SET voided_at = $3"
	" WHERE account_id = $1 AND batch_id = $2",
	.nargs = 3,
	.argtypes = {INT8OID, INT8OID, TIMESTAMPTZOID}
};

/*
 * Reads a redemption (redeem_credits, redeem_service or capture_hold) of
 * the account.  False if the account has none with that id.
 */
bool
credits_read_redemption(int64 account_id, int64 operation_id,
						CreditsRedemption *redemption)
{
	Datum		values[2] = {Int64GetDatum(account_id), Int64GetDatum(operation_id)};
	bool		isnull;
	Datum		field;

	if (credits_execute(&read_redemption, values, NULL, 1) == 0)
		return false;
	redemption->operation_id = operation_id;
	redemption->amount = credits_result_numeric(0, 1);
	redemption->credit_type = DatumGetTextPP(credits_result_datum(0, 2, &isnull));
	field = credits_result_datum(0, 3, &isnull);
	redemption->has_service = !isnull;
	redemption->service_id = isnull ? 0 : DatumGetInt64(field);
	field = credits_result_datum(0, 4, &isnull);
	redemption->membership_id = isnull ? 0 : DatumGetInt64(field);
	return true;
}

/* What of a redemption has not been refunded yet */
Numeric
credits_refundable(int64 account_id, int64 operation_id)
{
	Datum		values[2] = {Int64GetDatum(account_id), Int64GetDatum(operation_id)};
	uint64		rows = credits_execute(&refundable_batches, values, NULL, 0);
	Numeric		refundable = credits_numeric_zero();

	for (uint64 i = 0; i < rows; i++)
		refundable = credits_numeric_add(refundable, credits_result_numeric(i, 2));
	return refundable;
}

/*
 * Returns amount credits of the redemption to its batches, the batch that
 * expires last first.  The caller checked that amount is refundable.
 * Adds the batches credited to credited.
 */
void
credits_refund_into(CreditsMovement *movement, int64 operation_id, Numeric amount,
					CreditsAllocations *credited)
{
	Datum		values[2] = {Int64GetDatum(movement->account_id), Int64GetDatum(operation_id)};
	uint64		rows = credits_execute(&refundable_batches, values, NULL, 0);
	Numeric		left = amount;
	int64	   *batch_ids = palloc(sizeof(int64) * Max(rows, 1));
	Numeric    *refundable = palloc(sizeof(Numeric) * Max(rows, 1));
	TimestampTz *expires_at = palloc(sizeof(TimestampTz) * Max(rows, 1));
	bool	   *voided = palloc(sizeof(bool) * Max(rows, 1));
	bool		isnull;

	for (uint64 i = 0; i < rows; i++)
	{
		batch_ids[i] = credits_result_int64(i, 1);
		refundable[i] = credits_result_numeric(i, 2);
		expires_at[i] = DatumGetTimestampTz(credits_result_datum(i, 3, &isnull));
		voided[i] = DatumGetBool(credits_result_datum(i, 4, &isnull));
	}

	for (uint64 i = 0; i < rows && !credits_numeric_is_zero(left); i++)
	{
		Numeric		back = credits_numeric_min(refundable[i], left);
		const char *gone = voided[i] ? "void" :
			expires_at[i] <= movement->now ? "expire" : NULL;

		left = credits_numeric_sub(left, back);
		credits_movement_entry(movement, "refund", batch_ids[i], back);
		credits_allocations_add(credited, batch_ids[i], back, expires_at[i]);
		if (gone != NULL)
			credits_movement_entry(movement, gone, batch_ids[i],
								   credits_numeric_sub(credits_numeric_zero(), back));
		else
			credits_movement_change_batch(movement, batch_ids[i], back, NULL);
	}
	if (!credits_numeric_is_zero(left))
		elog(ERROR, "redemption " INT64_FORMAT " has less to refund than was checked",
			 operation_id);
}

static void
report_refund_exceeds(int64 operation_id, Numeric amount, Numeric refundable)
{
	if (credits_numeric_is_zero(refundable))
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_REFUND_EXCEEDS),
				 errmsg("redemption " INT64_FORMAT " has nothing left to refund", operation_id),
				 errdetail("It was refunded in full, or spent no credits.")));
	ereport(ERROR,
			(errcode(ERRCODE_CREDITS_REFUND_EXCEEDS),
			 errmsg("cannot refund %s credits of redemption " INT64_FORMAT,
					credits_numeric_text(amount), operation_id),
			 errdetail("%s of it can still be refunded.",
					   credits_numeric_text(refundable))));
}

Datum
credits_refund_redemption(PG_FUNCTION_ARGS)
{
	MemoryContext result_context = CurrentMemoryContext;
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsRedemption redemption;
	CreditsAllocations credited;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	StringInfoData request;
	int64		account_id;
	int64		operation_id;
	Numeric		amount = NULL;
	Numeric		refundable;
	text	   *reason;
	text	   *idempotency_key;
	TimestampTz now;
	int64		refund_id;
	Datum		result;
	MemoryContext old;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "operation_id");
	account_id = PG_GETARG_INT64(0);
	operation_id = PG_GETARG_INT64(1);
	if (!PG_ARGISNULL(2))
		amount = credits_checked_amount(PG_GETARG_NUMERIC(2), "amount");
	reason = credits_optional_text(fcinfo, 3);
	idempotency_key = credits_optional_text(fcinfo, 4);

	credits_request_start(&request, "refund_redemption");
	credits_request_add_int64(&request, "operation_id", false, operation_id);
	if (amount != NULL)
		credits_request_add_numeric(&request, "amount", amount);
	credits_request_add_text(&request, "reason", reason);

	SPI_connect();
	credits_lock_account(account_id, false, &account);
	credits_allocations_init(&credited);

	if (credits_find_prior_operation(account_id, idempotency_key, request.data, &prior))
	{
		Datum		keys[2] = {Int64GetDatum(account_id), Int64GetDatum(prior.operation_id)};
		uint64		rows = credits_execute(&refund_entries, keys, NULL, 0);
		bool		isnull;

		for (uint64 i = 0; i < rows; i++)
			credits_allocations_add(&credited, credits_result_int64(i, 1),
									credits_result_numeric(i, 2),
									DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)));
		old = MemoryContextSwitchTo(result_context);
		result = credits_redemption_datum(fcinfo, prior.operation_id, prior.amount,
										  prior.balance_after, &credited, 0);
		MemoryContextSwitchTo(old);
		SPI_finish();
		PG_RETURN_DATUM(result);
	}

	if (!credits_read_redemption(account_id, operation_id, &redemption))
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_REDEMPTION),
				 errmsg("operation " INT64_FORMAT " is not a redemption of account " INT64_FORMAT,
						operation_id, account_id)));
	refundable = credits_refundable(account_id, operation_id);
	if (amount == NULL)
		amount = refundable;
	if (credits_numeric_is_zero(amount) || credits_numeric_cmp(amount, refundable) > 0)
		report_refund_exceeds(operation_id, amount, refundable);

	now = credits_now();
	credits_movement_start(&movement, account_id, redemption.credit_type,
						   credits_running_total(account_id, redemption.credit_type), now);
	credits_refund_into(&movement, operation_id, amount, &credited);
	operation.kind = "refund_redemption";
	operation.idempotency_key = idempotency_key;
	operation.request = request.data;
	operation.amount = amount;
	operation.has_service = redemption.has_service;
	operation.service_id = redemption.service_id;
	operation.reference = reason;
	operation.refund_of = operation_id;
	refund_id = credits_movement_finish(&movement, &operation);

	old = MemoryContextSwitchTo(result_context);
	result = credits_redemption_datum(fcinfo, refund_id, amount, movement.total,
									  &credited, 0);
	MemoryContextSwitchTo(old);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Zeroes what is left of a batch, with a void ledger entry, and marks it
 * voided.  Credits a hold holds from it stay held: a capture still spends
 * them, a release voids them at once.  Returns the credits voided now.
 */
Datum
credits_void_batch(PG_FUNCTION_ARGS)
{
	CreditsAccount account;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	StringInfoData request;
	int64		account_id;
	int64		batch_id;
	text	   *reason;
	Datum		values[3];
	Numeric		left;
	text	   *credit_type;
	bool		isnull;
	TimestampTz now;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "batch_id");
	credits_require_arg(fcinfo, 2, "reason");
	account_id = PG_GETARG_INT64(0);
	batch_id = PG_GETARG_INT64(1);
	reason = PG_GETARG_TEXT_PP(2);

	credits_request_start(&request, "void_batch");
	credits_request_add_int64(&request, "batch_id", false, batch_id);
	credits_request_add_text(&request, "reason", reason);

	SPI_connect();
	credits_lock_account(account_id, false, &account);

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(batch_id);
	if (credits_execute(&read_batch, values, NULL, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_BATCH),
				 errmsg("batch " INT64_FORMAT " does not exist for account " INT64_FORMAT,
						batch_id, account_id)));
	if (DatumGetBool(credits_result_datum(0, 3, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_BATCH_VOIDED),
				 errmsg("batch " INT64_FORMAT " was already voided", batch_id)));
	left = credits_result_numeric(0, 1);
	credit_type = DatumGetTextPP(credits_result_datum(0, 2, &isnull));

	now = credits_now();
	credits_movement_start(&movement, account_id, credit_type,
						   credits_running_total(account_id, credit_type), now);
	if (!credits_numeric_is_zero(left))
	{
		Numeric		taken = credits_numeric_sub(credits_numeric_zero(), left);

		credits_movement_change_batch(&movement, batch_id, taken, NULL);
		credits_movement_entry(&movement, "void", batch_id, taken);
	}
	values[2] = TimestampTzGetDatum(now);
	credits_execute(&mark_voided, values, NULL, 0);

	operation.kind = "void_batch";
	operation.request = request.data;
	operation.amount = left;
	operation.reference = reason;
	credits_movement_finish(&movement, &operation);

	left = DatumGetNumeric(SPI_datumTransfer(NumericGetDatum(left), false, -1));
	SPI_finish();
	PG_RETURN_NUMERIC(left);
}
