/*-------------------------------------------------------------------------
 *
 * holds.c
 *	  Holds: credits reserved now for a booking, from specific batches,
 *	  earliest-expiry-first, then captured (spent) or released.
 *	  credits.hold_credits, hold_service, capture_hold, release_hold and
 *	  release_expired_holds.
 *
 *	  A hold moves no credits: it raises its batches' held amounts (so
 *	  nothing else can spend them) and writes no ledger entry.  Capturing
 *	  spends from the held credits (redeem entries); releasing gives them
 *	  back, except that credits whose batch expired or was voided while
 *	  held leave at once (expire or void entries).  A hold keeps its
 *	  credits after its batch's expiry, so a member may book dates beyond
 *	  the period with the period's credits.
 *
 * Locking
 *	  Every function locks the account row first (accounts.c), then reads
 *	  the hold and its batches.  A hold that its first batch covers, and
 *	  the capture of a hold that keeps credits of one batch, are written
 *	  through the table access method (direct_hold.c,
 *	  direct_capture.c), which locks the tables the statements would
 *	  write.  release_expired_holds locks the accounts of
 *	  overdue holds FOR UPDATE SKIP LOCKED, as expire_batches does, so it
 *	  never waits on an account that another call holds.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(credits_hold_credits);
PG_FUNCTION_INFO_V1(credits_hold_service);
PG_FUNCTION_INFO_V1(credits_capture_hold);
PG_FUNCTION_INFO_V1(credits_release_hold);
PG_FUNCTION_INFO_V1(credits_release_expired_holds);

static CreditsStatement read_hold = {
	.sql = "SELECT h.status = 'open', h.credit_type, h.service_id, h.amount,"
	" h.membership_id, h.hold_until, h.quantity"
	" FROM credits.holds AS h WHERE h.account_id = $1 AND h.hold_id = $2",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/* What a hold still holds, batch by batch, in the order it was drawn */
static CreditsStatement held_batches = {
	.sql = "SELECT a.batch_id, a.remaining, b.expires_at, b.voided_at IS NOT NULL"
	" FROM credits.hold_allocations AS a"
	" JOIN credits.batches AS b ON b.account_id = a.account_id AND b.batch_id = a.batch_id"
	" WHERE a.account_id = $1 AND a.hold_id = $2 AND a.remaining > 0"
	" ORDER BY a.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement empty_allocations = {
	.sql = "UPDATE credits.hold_allocations SET remaining = 0"
	" WHERE account_id = $1 AND hold_id = $2 AND remaining > 0",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * $1 account, $2 hold, $3 credits captured, $4 closing operation, $5 now,
 * $6 whether it was captured (a membership hold is captured with 0)
 */
static CreditsStatement close_hold = {
	.sql = "UPDATE credits.holds"
	" SET status = CASE WHEN $6 THEN 'captured' ELSE 'released' END::credits.hold_status,"
	"     captured = $3, released = amount - $3, closed_at = $5, closed_by = $4"
	" WHERE account_id = $1 AND hold_id = $2",
	.nargs = 6,
	.argtypes = {INT8OID, INT8OID, NUMERICOID, INT8OID, TIMESTAMPTZOID, BOOLOID}
};

/*
 * $1 account, $2 hold, $3 credit type, $4 service, $5 quantity, $6 amount,
 * $7 hold_until, $8 membership, $9 reference, $10 now, $11 batch ids,
 * $12 amounts held from each.
 */
static CreditsStatement insert_hold = {
	.sql = "WITH hold AS ("
	"  INSERT INTO credits.holds (account_id, hold_id, credit_type, service_id, quantity,"
	"    amount, hold_until, membership_id, reference, created_at)"
	"  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	")"
	" INSERT INTO credits.hold_allocations (account_id, hold_id, batch_id, entry_no,"
	"   amount, remaining)"
	" SELECT $1, $2, a.batch_id, a.entry_no, a.amount, a.amount"
	" FROM ROWS FROM (pg_catalog.unnest($11), pg_catalog.unnest($12)) WITH ORDINALITY"
	"   AS a(batch_id, amount, entry_no)",
	.nargs = 12,
	.argtypes = {INT8OID, INT8OID, TEXTOID, INT8OID, INT4OID, NUMERICOID,
		TIMESTAMPTZOID, INT8OID, TEXTOID, TIMESTAMPTZOID, INT8ARRAYOID,
	NUMERICARRAYOID}
};

/* A hold as it was placed, for a retry */
static CreditsStatement placed_allocations = {
	.sql = "SELECT a.batch_id, a.amount, b.expires_at"
	" FROM credits.hold_allocations AS a"
	" JOIN credits.batches AS b ON b.account_id = a.account_id AND b.batch_id = a.batch_id"
	" WHERE a.account_id = $1 AND a.hold_id = $2 ORDER BY a.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/* A capture as it was made, for a retry */
static CreditsStatement captured_entries = {
	.sql = "SELECT l.batch_id, -l.delta, b.expires_at"
	" FROM credits.ledger AS l"
	" JOIN credits.batches AS b ON b.account_id = l.account_id AND b.batch_id = l.batch_id"
	" WHERE l.account_id = $1 AND l.operation_id = $2 AND l.kind = 'redeem'"
	" ORDER BY l.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * Overdue holds whose accounts this call could lock: $1 now, $2 at most
 * this many.  As in expire_batches, the LIMIT counts only holds of
 * accounts locked here.
 */
static CreditsStatement lock_overdue_holds = {
	.sql = "SELECT h.account_id, h.hold_id"
	" FROM credits.holds AS h"
	" JOIN credits.accounts AS a ON a.account_id = h.account_id"
	" WHERE h.status = 'open' AND h.hold_until <= $1"
	" ORDER BY h.hold_until"
	" LIMIT $2"
	" FOR UPDATE OF a SKIP LOCKED",
	.nargs = 2,
	.argtypes = {TIMESTAMPTZOID, INT8OID},
	.without_jit = true
};

/*
 * Reads a hold of the account.  False if the account has no such hold.
 */
bool
credits_read_hold(int64 account_id, int64 hold_id, CreditsHold *hold)
{
	Datum		values[2] = {Int64GetDatum(account_id), Int64GetDatum(hold_id)};
	bool		isnull;
	Datum		field;

	if (credits_execute(&read_hold, values, NULL, 1) == 0)
		return false;
	hold->account_id = account_id;
	hold->hold_id = hold_id;
	hold->open = DatumGetBool(credits_result_datum(0, 1, &isnull));
	hold->credit_type = DatumGetTextPP(credits_result_datum(0, 2, &isnull));
	field = credits_result_datum(0, 3, &isnull);
	hold->has_service = !isnull;
	hold->service_id = isnull ? 0 : DatumGetInt64(field);
	hold->amount = credits_result_numeric(0, 4);
	field = credits_result_datum(0, 5, &isnull);
	hold->membership_id = isnull ? 0 : DatumGetInt64(field);
	field = credits_result_datum(0, 6, &isnull);
	hold->has_hold_until = !isnull;
	hold->hold_until = isnull ? 0 : DatumGetTimestampTz(field);
	field = credits_result_datum(0, 7, &isnull);
	hold->quantity = isnull ? 1 : DatumGetInt32(field);
	return true;
}

static void
report_unknown_hold(int64 account_id, int64 hold_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_CREDITS_UNKNOWN_HOLD),
			 errmsg("hold " INT64_FORMAT " does not exist for account " INT64_FORMAT,
					hold_id, account_id)));
}

void
credits_require_open_hold(const CreditsHold *hold)
{
	if (!hold->open)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_HOLD_CLOSED),
				 errmsg("hold " INT64_FORMAT " was already captured or released",
						hold->hold_id),
				 errhint("A retried capture with the same idempotency key returns the first capture.")));
}

/*
 * Spends capture credits of what the hold still holds, in the order they
 * were drawn, and gives the rest back: to the batch, or out of it at once
 * (expire or void entries) if the batch expired or was voided meanwhile.
 * Adds the batches spent from to captured.  Returns what was given back.
 */
Numeric
credits_close_hold(CreditsMovement *movement, const CreditsHold *hold,
				   Numeric capture, CreditsAllocations *captured)
{
	Datum		values[2] = {Int64GetDatum(hold->account_id), Int64GetDatum(hold->hold_id)};
	Numeric		to_capture = capture;
	Numeric		given_back = credits_numeric_zero();
	uint64		rows;
	int64	   *batch_ids;
	Numeric    *held;
	TimestampTz *expires_at;
	bool	   *voided;
	bool		isnull;

	rows = credits_execute(&held_batches, values, NULL, 0);
	batch_ids = palloc(sizeof(int64) * Max(rows, 1));
	held = palloc(sizeof(Numeric) * Max(rows, 1));
	expires_at = palloc(sizeof(TimestampTz) * Max(rows, 1));
	voided = palloc(sizeof(bool) * Max(rows, 1));
	for (uint64 i = 0; i < rows; i++)
	{
		batch_ids[i] = credits_result_int64(i, 1);
		held[i] = credits_result_numeric(i, 2);
		expires_at[i] = DatumGetTimestampTz(credits_result_datum(i, 3, &isnull));
		voided[i] = DatumGetBool(credits_result_datum(i, 4, &isnull));
	}

	for (uint64 i = 0; i < rows; i++)
	{
		Numeric		take = credits_numeric_min(held[i], to_capture);
		Numeric		rest = credits_numeric_sub(held[i], take);
		Numeric		leaving = take;
		const char *gone = voided[i] ? "void" :
			expires_at[i] <= movement->now ? "expire" : NULL;

		if (!credits_numeric_is_zero(take))
		{
			credits_movement_entry(movement, "redeem", batch_ids[i],
								   credits_numeric_sub(credits_numeric_zero(), take));
			credits_allocations_add(captured, batch_ids[i], take, expires_at[i]);
			to_capture = credits_numeric_sub(to_capture, take);
		}
		if (!credits_numeric_is_zero(rest))
		{
			given_back = credits_numeric_add(given_back, rest);
			if (gone != NULL)
			{
				credits_movement_entry(movement, gone, batch_ids[i],
									   credits_numeric_sub(credits_numeric_zero(), rest));
				leaving = credits_numeric_add(leaving, rest);
			}
		}
		credits_movement_change_batch(movement, batch_ids[i],
									  credits_numeric_sub(credits_numeric_zero(), leaving),
									  credits_numeric_sub(credits_numeric_zero(), held[i]));
	}
	if (!credits_numeric_is_zero(to_capture))
		elog(ERROR, "hold " INT64_FORMAT " holds less than it should", hold->hold_id);

	credits_execute(&empty_allocations, values, NULL, 0);
	return given_back;
}

/*
 * Records that the hold is closed, by which operation: captured (credits
 * were spent, or a membership paid) or released.
 */
void
credits_mark_hold_closed(const CreditsHold *hold, Numeric captured, bool capturing,
						 int64 operation_id, TimestampTz now)
{
	Datum		values[6];

	values[0] = Int64GetDatum(hold->account_id);
	values[1] = Int64GetDatum(hold->hold_id);
	values[2] = NumericGetDatum(captured);
	values[3] = Int64GetDatum(operation_id);
	values[4] = TimestampTzGetDatum(now);
	values[5] = BoolGetDatum(capturing);
	credits_execute(&close_hold, values, NULL, 0);
}

static Datum
replay_hold(FunctionCallInfo fcinfo, int64 account_id, int64 hold_id,
			MemoryContext result_context)
{
	CreditsHold hold;
	CreditsAllocations allocations;
	Datum		values[2] = {Int64GetDatum(account_id), Int64GetDatum(hold_id)};
	bool		isnull;
	uint64		rows;
	MemoryContext old;
	Datum		result;

	if (!credits_read_hold(account_id, hold_id, &hold))
		elog(ERROR, "operation " INT64_FORMAT " placed no hold", hold_id);

	credits_allocations_init(&allocations);
	rows = credits_execute(&placed_allocations, values, NULL, 0);
	for (uint64 i = 0; i < rows; i++)
		credits_allocations_add(&allocations, credits_result_int64(i, 1),
								credits_result_numeric(i, 2),
								DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)));

	old = MemoryContextSwitchTo(result_context);
	result = credits_hold_datum(fcinfo, hold_id, hold.amount, hold.has_hold_until,
								hold.hold_until, &allocations, hold.membership_id);
	MemoryContextSwitchTo(old);
	return result;
}

/* The hold's result, in result_context */
static Datum
hold_result(FunctionCallInfo fcinfo, const CreditsDrawRequest *request, int64 hold_id,
			Numeric held, const CreditsAllocations *allocations, int64 membership_id,
			MemoryContext result_context)
{
	MemoryContext old = MemoryContextSwitchTo(result_context);
	Datum		result;

	result = credits_hold_datum(fcinfo, hold_id, held, request->has_hold_until,
								request->hold_until, allocations, membership_id);
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * Places a hold: under the account lock, a retry returns the first hold;
 * a membership that covers the service holds nothing and pays at capture;
 * otherwise the amount is drawn like a redemption and held.  When the
 * first spendable batch covers it (the common case), that is written
 * through the table access method (direct_hold.c), else by statements.
 */
/*
 * result_context is the caller's memory, taken before SPI_connect: the
 * result must outlive SPI_finish.
 */
static Datum
credits_hold(FunctionCallInfo fcinfo, CreditsDrawRequest *request,
             MemoryContext result_context)
{
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsAllocations allocations;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	CreditsFirstBatch first;
	Numeric		total;
	Numeric		missing;
	Numeric		held;
	TimestampTz now;
	int64		membership_id = 0;
	int64		hold_id;
	Datum		values[12];
	char		nulls[12];

	credits_lock_account(request->account_id, false, &account);
	if (credits_find_prior_operation(request->account_id, request->idempotency_key,
									 request->request, &prior))
		return replay_hold(fcinfo, request->account_id, prior.operation_id, result_context);
	credits_require_member(&account, "spend");

	now = credits_now();
	credits_allocations_init(&allocations);
	held = request->amount;
	if (request->quantity > 0)
		membership_id = credits_find_active_membership(request->account_id,
													   request->service_id, now);
	if (membership_id != 0)
		held = credits_numeric_zero();
	else if (credits_hold_first_batch_directly(request, now, &first) == CREDITS_DIRECT_WRITTEN)
	{
		credits_allocations_add(&allocations, first.batch_id, first.amount, first.expires_at);
		return hold_result(fcinfo, request, first.operation_id, held, &allocations, 0,
						   result_context);
	}
	else
	{
		missing = credits_draw_spendable(request->account_id, request->credit_type,
										 request->has_service, request->service_id,
										 request->amount, now, &allocations, &total);
		if (!credits_numeric_is_zero(missing))
			credits_report_shortfall(request->account_id, request->credit_type,
									 request->has_service, request->service_id,
									 request->amount, missing, now);
	}

	credits_movement_start(&movement, request->account_id, request->credit_type,
						   credits_running_total(request->account_id, request->credit_type),
						   now);
	for (int i = 0; i < allocations.count; i++)
		credits_movement_change_batch(&movement, allocations.batch_ids[i], NULL,
									  allocations.amounts[i]);
	operation.kind = request->kind;
	operation.idempotency_key = request->idempotency_key;
	operation.request = request->request;
	operation.amount = held;
	operation.has_service = request->has_service;
	operation.service_id = request->service_id;
	operation.reference = request->reference;
	operation.membership_id = membership_id;
	hold_id = credits_movement_finish(&movement, &operation);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(request->account_id);
	values[1] = Int64GetDatum(hold_id);
	values[2] = PointerGetDatum(request->credit_type);
	values[3] = Int64GetDatum(request->service_id);
	nulls[3] = request->has_service ? ' ' : 'n';
	values[4] = Int32GetDatum(request->quantity);
	nulls[4] = request->quantity > 0 ? ' ' : 'n';
	values[5] = NumericGetDatum(held);
	values[6] = TimestampTzGetDatum(request->hold_until);
	nulls[6] = request->has_hold_until ? ' ' : 'n';
	values[7] = Int64GetDatum(membership_id);
	nulls[7] = membership_id ? ' ' : 'n';
	values[8] = PointerGetDatum(request->reference);
	nulls[8] = request->reference ? ' ' : 'n';
	values[9] = TimestampTzGetDatum(now);
	values[10] = PointerGetDatum(construct_array((Datum *) allocations.batch_ids,
												 allocations.count, INT8OID, sizeof(int64),
												 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[11] = PointerGetDatum(construct_array((Datum *) allocations.amounts,
												 allocations.count, NUMERICOID, -1, false,
												 TYPALIGN_INT));
	credits_execute(&insert_hold, values, nulls, 0);
	return hold_result(fcinfo, request, hold_id, held, &allocations, membership_id,
					   result_context);
}

static void
hold_until_argument(FunctionCallInfo fcinfo, int argno, CreditsDrawRequest *request)
{
	request->has_hold_until = !PG_ARGISNULL(argno);
	if (request->has_hold_until)
	{
		request->hold_until = PG_GETARG_TIMESTAMPTZ(argno);
		credits_check_finite_time(request->hold_until, "hold_until");
	}
}

Datum
credits_hold_credits(PG_FUNCTION_ARGS)
{
	MemoryContext caller_context = CurrentMemoryContext;
	CreditsDrawRequest request = {0};
	StringInfoData request_text;
	Datum		result;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "amount");
	credits_require_arg(fcinfo, 2, "credit_type");
	request.kind = "hold_credits";
	request.account_id = PG_GETARG_INT64(0);
	request.amount = credits_checked_amount(PG_GETARG_NUMERIC(1), "amount");
	request.credit_type = PG_GETARG_TEXT_PP(2);
	request.has_service = !PG_ARGISNULL(3);
	request.service_id = request.has_service ? PG_GETARG_INT64(3) : 0;
	hold_until_argument(fcinfo, 4, &request);
	request.reference = credits_optional_text(fcinfo, 5);
	request.idempotency_key = credits_optional_text(fcinfo, 6);

	credits_request_start(&request_text, request.kind);
	credits_request_add_numeric(&request_text, "amount", request.amount);
	credits_request_add_text(&request_text, "credit_type", request.credit_type);
	credits_request_add_int64(&request_text, "service_id", !request.has_service, request.service_id);
	if (request.has_hold_until)
		credits_request_add_time(&request_text, "hold_until", request.hold_until);
	credits_request_add_text(&request_text, "reference", request.reference);
	request.request = request_text.data;

	SPI_connect();
	if (request.has_service)
		credits_check_service_for(request.service_id, request.credit_type);
	result = credits_hold(fcinfo, &request, caller_context);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
credits_hold_service(PG_FUNCTION_ARGS)
{
	MemoryContext caller_context = CurrentMemoryContext;
	CreditsDrawRequest request = {0};
	StringInfoData request_text;
	Datum		result;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "service_id");
	credits_require_arg(fcinfo, 2, "quantity");
	request.kind = "hold_service";
	request.account_id = PG_GETARG_INT64(0);
	request.has_service = true;
	request.service_id = PG_GETARG_INT64(1);
	request.quantity = PG_GETARG_INT32(2);
	credits_check_quantity(request.quantity);
	hold_until_argument(fcinfo, 3, &request);
	request.reference = credits_optional_text(fcinfo, 4);
	request.idempotency_key = credits_optional_text(fcinfo, 5);

	SPI_connect();
	request.amount = credits_price_service(request.service_id, request.quantity,
										  &request.credit_type);

	credits_request_start(&request_text, request.kind);
	credits_request_add_int64(&request_text, "service_id", false, request.service_id);
	credits_request_add_int64(&request_text, "quantity", false, request.quantity);
	if (request.has_hold_until)
		credits_request_add_time(&request_text, "hold_until", request.hold_until);
	credits_request_add_text(&request_text, "reference", request.reference);
	request.request = request_text.data;

	result = credits_hold(fcinfo, &request, caller_context);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Closes an open hold in an operation of its own: capture credits spent
 * (a membership hold records its visit instead), the rest given back.
 * Returns the operation id; *captured lists the batches spent from.
 */
static int64
finish_hold(const CreditsHold *hold, Numeric capture, bool capturing, const char *kind,
			text *idempotency_key, const char *request, TimestampTz now,
			CreditsAllocations *captured, CreditsMovement *movement)
{
	CreditsOperation operation = {0};
	int64		operation_id;

	credits_movement_start(movement, hold->account_id, hold->credit_type,
						   credits_running_total(hold->account_id, hold->credit_type), now);
	credits_close_hold(movement, hold, capture, captured);
	operation.kind = kind;
	operation.idempotency_key = idempotency_key;
	operation.request = request;
	/* what a capture spends, or what a release gives back */
	operation.amount = capturing ? capture : hold->amount;
	operation.has_service = hold->has_service;
	operation.service_id = hold->service_id;
	operation.hold_id = hold->hold_id;
	operation.membership_id = hold->membership_id;
	operation_id = credits_movement_finish(movement, &operation);
	credits_mark_hold_closed(hold, capture, capturing, operation_id, now);
	return operation_id;
}

Datum
credits_capture_hold(PG_FUNCTION_ARGS)
{
	MemoryContext result_context = CurrentMemoryContext;
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsHold hold;
	CreditsAllocations captured;
	CreditsMovement movement;
	CreditsFirstBatch drawn;
	StringInfoData request;
	int64		account_id;
	int64		hold_id;
	Numeric		capture = NULL;
	text	   *idempotency_key;
	int64		operation_id;
	TimestampTz now;
	Datum		result;
	MemoryContext old;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "hold_id");
	account_id = PG_GETARG_INT64(0);
	hold_id = PG_GETARG_INT64(1);
	if (!PG_ARGISNULL(2))
		capture = credits_checked_amount(PG_GETARG_NUMERIC(2), "amount");
	idempotency_key = credits_optional_text(fcinfo, 3);

	credits_request_start(&request, "capture_hold");
	credits_request_add_int64(&request, "hold_id", false, hold_id);
	if (capture != NULL)
		credits_request_add_numeric(&request, "amount", capture);

	SPI_connect();
	credits_lock_account(account_id, false, &account);
	credits_allocations_init(&captured);

	if (credits_find_prior_operation(account_id, idempotency_key, request.data, &prior))
	{
		Datum		keys[2] = {Int64GetDatum(account_id), Int64GetDatum(prior.operation_id)};
		uint64		rows = credits_execute(&captured_entries, keys, NULL, 0);
		bool		isnull;

		for (uint64 i = 0; i < rows; i++)
			credits_allocations_add(&captured, credits_result_int64(i, 1),
									credits_result_numeric(i, 2),
									DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)));
		old = MemoryContextSwitchTo(result_context);
		result = credits_redemption_datum(fcinfo, prior.operation_id, prior.amount,
										  prior.balance_after, &captured,
										  prior.membership_id);
		MemoryContextSwitchTo(old);
		SPI_finish();
		PG_RETURN_DATUM(result);
	}

	now = credits_now();
	if (credits_capture_directly(account_id, hold_id, &capture, idempotency_key, request.data,
								 now, &drawn) == CREDITS_DIRECT_WRITTEN)
	{
		credits_allocations_add(&captured, drawn.batch_id, drawn.amount, drawn.expires_at);
		old = MemoryContextSwitchTo(result_context);
		result = credits_redemption_datum(fcinfo, drawn.operation_id, capture, drawn.total,
										  &captured, 0);
		MemoryContextSwitchTo(old);
		SPI_finish();
		PG_RETURN_DATUM(result);
	}

	if (!credits_read_hold(account_id, hold_id, &hold))
		report_unknown_hold(account_id, hold_id);
	credits_require_open_hold(&hold);
	if (capture == NULL)
		capture = hold.amount;
	if (credits_numeric_cmp(capture, hold.amount) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_CAPTURE_EXCEEDS_HOLD),
				 errmsg("cannot capture %s credits from hold " INT64_FORMAT,
						credits_numeric_text(capture), hold_id),
				 errdetail("The hold holds %s.", credits_numeric_text(hold.amount))));

	operation_id = finish_hold(&hold, capture, true, "capture_hold", idempotency_key,
							   request.data, now, &captured, &movement);
	if (hold.membership_id != 0)
		credits_record_visit(account_id, operation_id, hold.membership_id,
							 hold.service_id, hold.quantity, NULL, now);

	old = MemoryContextSwitchTo(result_context);
	result = credits_redemption_datum(fcinfo, operation_id, capture, movement.total,
									  &captured, hold.membership_id);
	MemoryContextSwitchTo(old);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
credits_release_hold(PG_FUNCTION_ARGS)
{
	CreditsAccount account;
	CreditsHold hold;
	CreditsAllocations captured;
	CreditsMovement movement;
	StringInfoData request;
	int64		account_id;
	int64		hold_id;
	Numeric		released;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "hold_id");
	account_id = PG_GETARG_INT64(0);
	hold_id = PG_GETARG_INT64(1);

	credits_request_start(&request, "release_hold");
	credits_request_add_int64(&request, "hold_id", false, hold_id);

	SPI_connect();
	credits_lock_account(account_id, false, &account);
	if (!credits_read_hold(account_id, hold_id, &hold))
		report_unknown_hold(account_id, hold_id);
	credits_require_open_hold(&hold);
	credits_allocations_init(&captured);
	finish_hold(&hold, credits_numeric_zero(), false, "release_hold", NULL, request.data,
				credits_now(), &captured, &movement);
	released = DatumGetNumeric(SPI_datumTransfer(NumericGetDatum(hold.amount), false, -1));
	SPI_finish();
	PG_RETURN_NUMERIC(released);
}

Datum
credits_release_expired_holds(PG_FUNCTION_ARGS)
{
	Datum		values[2];
	int64		max_holds;
	uint64		rows;
	int64	   *account_ids;
	int64	   *hold_ids;
	int64		released = 0;
	TimestampTz now;
	MemoryContext per_hold;
	MemoryContext old;

	credits_require_arg(fcinfo, 0, "max_holds");
	max_holds = credits_checked_max_rows(PG_GETARG_INT32(0), "max_holds");

	SPI_connect();
	now = credits_now();
	values[0] = TimestampTzGetDatum(now);
	values[1] = Int64GetDatum(max_holds);
	rows = credits_execute(&lock_overdue_holds, values, NULL, 0);
	account_ids = palloc(sizeof(int64) * Max(rows, 1));
	hold_ids = palloc(sizeof(int64) * Max(rows, 1));
	for (uint64 i = 0; i < rows; i++)
	{
		account_ids[i] = credits_result_int64(i, 1);
		hold_ids[i] = credits_result_int64(i, 2);
	}

	per_hold = AllocSetContextCreate(CurrentMemoryContext, "credits release_expired_holds",
									 ALLOCSET_DEFAULT_SIZES);
	for (uint64 i = 0; i < rows; i++)
	{
		CreditsHold hold;
		CreditsAllocations captured;
		CreditsMovement movement;
		StringInfoData request;

		old = MemoryContextSwitchTo(per_hold);
		/* read again: it may have been closed before this call locked its account */
		if (credits_read_hold(account_ids[i], hold_ids[i], &hold) && hold.open)
		{
			credits_request_start(&request, "release_expired_holds");
			credits_request_add_int64(&request, "hold_id", false, hold_ids[i]);
			credits_allocations_init(&captured);
			finish_hold(&hold, credits_numeric_zero(), false, "release_expired_holds", NULL,
						request.data, now, &captured, &movement);
			released++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(per_hold);
	}

	SPI_finish();
	PG_RETURN_INT64(released);
}
