/*-------------------------------------------------------------------------
 *
 * redeem.c
 *	  credits.redeem_credits and credits.redeem_service: spend an amount
 *	  earliest-expiry-first across as many batches as it takes, all or
 *	  nothing.
 *
 * Locking
 *	  After the arguments (and the service, for redeem_service) are
 *	  checked, the account row is locked FOR UPDATE (accounts.c).  Then, in
 *	  statements that each see what was committed before the lock was
 *	  granted: the idempotency key is looked up; the spendable batches are
 *	  read in consumption order through credits.batches_spendable_idx,
 *	  stopping as soon as the amount is covered; each batch drawn is updated
 *	  by primary key; and one statement updates the running total, inserts
 *	  the operation and appends one ledger entry per batch.  Batches are
 *	  not locked separately: every writer of an account's batches holds its
 *	  account's row lock.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(credits_redeem_credits);
PG_FUNCTION_INFO_V1(credits_redeem_service);

/* Spendable batches read per pass; a second pass reads the rest */
#define BATCHES_FIRST_PASS 16

typedef struct RedeemRequest
{
	int64		account_id;
	const char *kind;			/* credits.operation_kind label */
	Numeric		amount;
	text	   *credit_type;
	bool		has_service;
	int64		service_id;
	text	   *reference;
	text	   *idempotency_key;
	const char *request;
} RedeemRequest;

static CreditsStatement spendable_batches = {
	.sql = "SELECT b.batch_id, b.remaining, b.expires_at,"
	" (SELECT t.total FROM credits.account_totals AS t"
	"   WHERE t.account_id = $1 AND t.credit_type = $2)"
	" FROM credits.batches AS b"
	" WHERE " CREDITS_SPENDABLE_BATCH
	" ORDER BY " CREDITS_CONSUMPTION_ORDER,
	.nargs = 4,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

/* Spendable credits restricted to services other than the one asked for */
static CreditsStatement restricted_elsewhere = {
	.sql = "SELECT 1 FROM credits.batches AS b"
	" WHERE b.account_id = $1 AND b.credit_type = $2 AND b.is_open"
	" AND b.expires_at > $4 AND b.valid_from <= $4"
	" AND b.service_ids IS NOT NULL AND NOT ($3 = ANY (b.service_ids))",
	.nargs = 4,
	.argtypes = {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

/*
 * One batch drawn: $1 account, $2 batch, $3 amount drawn.  By primary key,
 * one statement per batch, so that the plan is a unique index lookup
 * whatever the account's history (a generic plan for "batch_id = ANY"
 * would walk all of an account's batches).
 */
static CreditsStatement draw_batch = {
	.sql = "UPDATE credits.batches AS b"
	" SET remaining = b.remaining - $3, is_open = b.remaining > $3"
	" WHERE b.account_id = $1 AND b.batch_id = $2",
	.nargs = 3,
	.argtypes = {INT8OID, INT8OID, NUMERICOID}
};

/*
 * $1 account, $2 credit type, $3 amount, $4 service, $5 operation kind,
 * $6 key, $7 request, $8 reference, $9 now, $10 batch ids, $11 amounts
 * drawn, $12 balance after each entry.
 */
static CreditsStatement write_redemption = {
	.sql = "WITH total AS ("
	"  UPDATE credits.account_totals AS t SET total = t.total - $3"
	"  WHERE t.account_id = $1 AND t.credit_type = $2"
	"  RETURNING t.total"
	"), operation AS ("
	"  INSERT INTO credits.operations (account_id, operation_id, kind, idempotency_key,"
	"    request, amount, credit_type, service_id, reference, created_at)"
	"  SELECT $1, pg_catalog.nextval('credits.operation_id_seq'), $5::text::credits.operation_kind,"
	"    $6, $7, $3, $2, $4, $8, $9 FROM total"
	"  RETURNING operation_id"
	"), entries AS ("
	"  INSERT INTO credits.ledger (account_id, operation_id, entry_no, kind, batch_id,"
	"    credit_type, delta, balance_after, service_id, reference, created_at)"
	"  SELECT $1, operation.operation_id, e.entry_no, 'redeem', e.batch_id, $2, -e.amount,"
	"    e.balance_after, $4, $8, $9"
	"  FROM operation, ROWS FROM (pg_catalog.unnest($10), pg_catalog.unnest($11),"
	"    pg_catalog.unnest($12)) WITH ORDINALITY"
	"    AS e(batch_id, amount, balance_after, entry_no)"
	")"
	" SELECT operation_id FROM operation",
	.nargs = 12,
	.argtypes = {INT8OID, TEXTOID, NUMERICOID, INT8OID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TIMESTAMPTZOID, INT8ARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID}
};

static CreditsStatement prior_allocations = {
	.sql = "SELECT l.batch_id, -l.delta, b.expires_at, l.balance_after"
	" FROM credits.ledger AS l"
	" JOIN credits.batches AS b ON b.account_id = l.account_id AND b.batch_id = l.batch_id"
	" WHERE l.account_id = $1 AND l.operation_id = $2"
	" ORDER BY l.entry_no",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

/*
 * Reads spendable batches in consumption order and draws from each in
 * turn until the amount is covered.  Returns what is still missing (zero
 * when covered) and sets *total to the account's running total.
 */
static Numeric
draw_batches(const RedeemRequest *redeem, TimestampTz now,
			 CreditsAllocations *allocations, Numeric *total)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Numeric		missing = redeem->amount;
	Numeric		balance;
	uint64		rows;
	bool		isnull;

	values[0] = Int64GetDatum(redeem->account_id);
	values[1] = PointerGetDatum(redeem->credit_type);
	values[2] = Int64GetDatum(redeem->service_id);
	nulls[2] = redeem->has_service ? ' ' : 'n';
	values[3] = TimestampTzGetDatum(now);

	rows = credits_execute(&spendable_batches, values, nulls, BATCHES_FIRST_PASS);
	if (rows == 0)
	{
		*total = credits_numeric_zero();
		return missing;
	}

	/* Not covered by the first pass: read them all (rare, and bounded by open batches) */
	if (rows == BATCHES_FIRST_PASS)
	{
		Numeric		first_pass = credits_numeric_zero();

		for (uint64 i = 0; i < rows; i++)
			first_pass = credits_numeric_add(first_pass, credits_result_numeric(i, 2));
		if (credits_numeric_cmp(first_pass, redeem->amount) < 0)
			rows = credits_execute(&spendable_batches, values, nulls, 0);
	}

	credits_result_datum(0, 4, &isnull);
	if (isnull)
		elog(ERROR, "account " INT64_FORMAT " has batches but no running total",
			 redeem->account_id);
	*total = credits_result_numeric(0, 4);

	balance = *total;
	for (uint64 i = 0; i < rows && credits_numeric_cmp(missing, credits_numeric_zero()) > 0; i++)
	{
		Numeric		remaining = credits_result_numeric(i, 2);
		Numeric		take;

		take = credits_numeric_cmp(remaining, missing) < 0 ? remaining : missing;
		missing = credits_numeric_sub(missing, take);
		balance = credits_numeric_sub(balance, take);
		credits_allocations_add(allocations, credits_result_int64(i, 1), take,
								DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)),
								balance);
	}
	return missing;
}

/*
 * CR007 when the service is covered by no spendable batch although the
 * account has credits for other services; CR001 otherwise.
 */
static void
report_shortfall(const RedeemRequest *redeem, TimestampTz now, Numeric missing)
{
	Numeric		available = credits_numeric_sub(redeem->amount, missing);

	if (redeem->has_service &&
		credits_numeric_cmp(available, credits_numeric_zero()) == 0)
	{
		Datum		values[4];

		values[0] = Int64GetDatum(redeem->account_id);
		values[1] = PointerGetDatum(redeem->credit_type);
		values[2] = Int64GetDatum(redeem->service_id);
		values[3] = TimestampTzGetDatum(now);
		if (credits_execute(&restricted_elsewhere, values, NULL, 1) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_CREDITS_SERVICE_NOT_COVERED),
					 errmsg("no credits of account " INT64_FORMAT " can be used for service " INT64_FORMAT,
							redeem->account_id, redeem->service_id),
					 errdetail("The account's spendable \"%s\" credits are restricted to other services.",
							   text_to_cstring(redeem->credit_type))));
	}

	ereport(ERROR,
			(errcode(ERRCODE_CREDITS_INSUFFICIENT),
			 errmsg("insufficient credits"),
			 errdetail("Account " INT64_FORMAT " needs %s \"%s\" credits and can spend %s.",
					   redeem->account_id, numeric_normalize(redeem->amount),
					   text_to_cstring(redeem->credit_type),
					   numeric_normalize(available))));
}

static Datum
array_of_numeric(Numeric *values, int count)
{
	return PointerGetDatum(construct_array((Datum *) values, count, NUMERICOID,
										   -1, false, TYPALIGN_INT));
}

/*
 * The result of an earlier call with the same key, rebuilt from its
 * ledger entries.
 */
static Datum
replay_redemption(FunctionCallInfo fcinfo, const RedeemRequest *redeem,
				  const CreditsPriorOperation *prior, MemoryContext result_context)
{
	CreditsAllocations allocations;
	Datum		keys[2];
	uint64		rows;
	bool		isnull;
	MemoryContext old;

	keys[0] = Int64GetDatum(redeem->account_id);
	keys[1] = Int64GetDatum(prior->operation_id);
	rows = credits_execute(&prior_allocations, keys, NULL, 0);
	if (rows == 0)
		elog(ERROR, "operation " INT64_FORMAT " has no ledger entries", prior->operation_id);

	credits_allocations_init(&allocations);
	for (uint64 i = 0; i < rows; i++)
		credits_allocations_add(&allocations, credits_result_int64(i, 1),
								credits_result_numeric(i, 2),
								DatumGetTimestampTz(credits_result_datum(i, 3, &isnull)),
								credits_result_numeric(i, 4));

	old = MemoryContextSwitchTo(result_context);
	{
		Datum		result = credits_redemption_datum(fcinfo, prior->operation_id,
													  prior->amount,
													  allocations.balances_after[rows - 1],
													  &allocations);

		MemoryContextSwitchTo(old);
		return result;
	}
}

static Datum
credits_redeem(FunctionCallInfo fcinfo, RedeemRequest *redeem)
{
	MemoryContext result_context = CurrentMemoryContext;
	CreditsAccount account;
	CreditsPriorOperation prior;
	CreditsAllocations allocations;
	Numeric		total;
	Numeric		missing;
	TimestampTz now;
	Datum		values[12];
	char		nulls[12];
	Datum		result;
	int64		operation_id;

	credits_lock_account(redeem->account_id, false, &account);

	if (credits_find_prior_operation(redeem->account_id, redeem->idempotency_key,
									 redeem->request, &prior))
		return replay_redemption(fcinfo, redeem, &prior, result_context);

	credits_require_member(&account, "spend");

	now = credits_now();
	credits_allocations_init(&allocations);
	missing = draw_batches(redeem, now, &allocations, &total);
	if (credits_numeric_cmp(missing, credits_numeric_zero()) > 0)
	{
		/* an unknown credit type has no batches: say so rather than "insufficient" */
		credits_require_credit_type(redeem->credit_type);
		report_shortfall(redeem, now, missing);
	}

	/*
	 * The batches first: under REPEATABLE READ, a batch another transaction
	 * changed since this one's snapshot fails here with a serialization
	 * error, before anything else is written.
	 */
	for (int i = 0; i < allocations.count; i++)
	{
		Datum		batch[3];

		batch[0] = Int64GetDatum(redeem->account_id);
		batch[1] = Int64GetDatum(allocations.batch_ids[i]);
		batch[2] = NumericGetDatum(allocations.amounts[i]);
		if (credits_execute(&draw_batch, batch, NULL, 0) != 1)
			elog(ERROR, "batch " INT64_FORMAT " of account " INT64_FORMAT " vanished",
				 allocations.batch_ids[i], redeem->account_id);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(redeem->account_id);
	values[1] = PointerGetDatum(redeem->credit_type);
	values[2] = NumericGetDatum(redeem->amount);
	values[3] = Int64GetDatum(redeem->service_id);
	nulls[3] = redeem->has_service ? ' ' : 'n';
	values[4] = CStringGetTextDatum(redeem->kind);
	values[5] = redeem->idempotency_key ? PointerGetDatum(redeem->idempotency_key) : (Datum) 0;
	nulls[5] = redeem->idempotency_key ? ' ' : 'n';
	values[6] = CStringGetTextDatum(redeem->request);
	values[7] = redeem->reference ? PointerGetDatum(redeem->reference) : (Datum) 0;
	nulls[7] = redeem->reference ? ' ' : 'n';
	values[8] = TimestampTzGetDatum(now);
	values[9] = PointerGetDatum(construct_array((Datum *) allocations.batch_ids,
												allocations.count, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[10] = array_of_numeric(allocations.amounts, allocations.count);
	values[11] = array_of_numeric(allocations.balances_after, allocations.count);

	if (credits_execute(&write_redemption, values, nulls, 0) != 1)
		elog(ERROR, "redemption of account " INT64_FORMAT " found no running total",
			 redeem->account_id);
	operation_id = credits_result_int64(0, 1);

	{
		MemoryContext old = MemoryContextSwitchTo(result_context);

		result = credits_redemption_datum(fcinfo, operation_id, redeem->amount,
										  credits_numeric_sub(total, redeem->amount),
										  &allocations);
		MemoryContextSwitchTo(old);
	}
	return result;
}

Datum
credits_redeem_credits(PG_FUNCTION_ARGS)
{
	RedeemRequest redeem = {0};
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
	{
		CreditsService service;
		char	   *service_type;

		credits_find_service(redeem.service_id, &service);
		credits_require_accepts_credits(&service);
		service_type = text_to_cstring(service.credit_type);
		if (strcmp(service_type, text_to_cstring(redeem.credit_type)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("service " INT64_FORMAT " is paid in credit type \"%s\", not \"%s\"",
							redeem.service_id, service_type,
							text_to_cstring(redeem.credit_type))));
	}

	result = credits_redeem(fcinfo, &redeem);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
credits_redeem_service(PG_FUNCTION_ARGS)
{
	RedeemRequest redeem = {0};
	StringInfoData request;
	CreditsService service;
	Datum		result;
	int32		quantity;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "service_id");
	credits_require_arg(fcinfo, 2, "quantity");

	redeem.kind = "redeem_service";
	redeem.account_id = PG_GETARG_INT64(0);
	redeem.has_service = true;
	redeem.service_id = PG_GETARG_INT64(1);
	quantity = PG_GETARG_INT32(2);
	redeem.reference = credits_optional_text(fcinfo, 3);
	redeem.idempotency_key = credits_optional_text(fcinfo, 4);
	credits_check_quantity(quantity);

	SPI_connect();

	credits_find_service(redeem.service_id, &service);
	credits_require_accepts_credits(&service);
	redeem.credit_type = service.credit_type;
	redeem.amount = credits_service_charge(&service, quantity);

	credits_request_start(&request, redeem.kind);
	credits_request_add_int64(&request, "service_id", false, redeem.service_id);
	credits_request_add_int64(&request, "quantity", false, quantity);
	credits_request_add_text(&request, "reference", redeem.reference);
	redeem.request = request.data;

	result = credits_redeem(fcinfo, &redeem);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
