/*-------------------------------------------------------------------------
 *
 * cancel.c
 *	  credits.cancel_booking: applies the service's cancellation policy to
 *	  a booking paid by a hold or by a redemption, and records which rule
 *	  applied.
 *
 *	  The policy (columns of credits.services): cancelled at least
 *	  cancel_window before the booked start, everything goes back
 *	  (full_refund); later but before the start, late_cancel_share of it
 *	  goes back (late_cancellation); at or after the start, nothing
 *	  (no_show).  For a hold, what goes back is released and the rest
 *	  captured; for a redemption, what goes back is refunded.  A booking
 *	  without a service is treated as a service with no window and no late
 *	  share.
 *
 * Locking
 *	  The account row first (accounts.c); then the booking, its batches and
 *	  the cancellations, all changed in one operation.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(credits_cancel_booking);

static CreditsStatement already_cancelled = {
	.sql = "SELECT 1 FROM credits.cancellations AS c"
	" WHERE c.account_id = $1 AND c.booking_id = $2",
	.nargs = 2,
	.argtypes = {INT8OID, INT8OID}
};

static CreditsStatement read_policy = {
	.sql = "SELECT s.cancel_window, s.late_cancel_share FROM credits.services AS s"
	" WHERE s.service_id = $1",
	.nargs = 1,
	.argtypes = {INT8OID}
};

static CreditsStatement record_cancellation = {
	.sql = "INSERT INTO credits.cancellations (account_id, operation_id, booking_id,"
	" booked_with, service_id, starts_at, cancelled_at, rule, returned, kept)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::credits.cancellation_rule, $9, $10)",
	.nargs = 10,
	.argtypes = {INT8OID, INT8OID, INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, TEXTOID, NUMERICOID, NUMERICOID}
};

/*
 * Which rule applies, and the share of the booking that goes back.
 */
static const char *
cancellation_rule(bool has_service, int64 service_id, TimestampTz starts_at,
				  TimestampTz cancelled_at, Numeric *share_back)
{
	Interval	window = {0};
	Numeric		late_share = credits_numeric_zero();

	if (has_service)
	{
		Datum		key[1] = {Int64GetDatum(service_id)};
		bool		isnull;

		if (credits_execute(&read_policy, key, NULL, 1) == 1)
		{
			window = *DatumGetIntervalP(credits_result_datum(0, 1, &isnull));
			late_share = credits_result_numeric(0, 2);
		}
	}

	if (cancelled_at >= starts_at)
	{
		*share_back = credits_numeric_zero();
		return "no_show";
	}
	if (cancelled_at <= DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																TimestampTzGetDatum(starts_at),
																IntervalPGetDatum(&window))))
	{
		*share_back = int64_to_numeric(1);
		return "full_refund";
	}
	*share_back = late_share;
	return "late_cancellation";
}

/* amount x share, written without trailing zeros (2 x 0.5 is 1, not 1.0) */
static Numeric
times(Numeric amount, Numeric share)
{
	Datum		product = DirectFunctionCall2(numeric_mul, NumericGetDatum(amount),
											  NumericGetDatum(share));

	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale, product));
}

Datum
credits_cancel_booking(PG_FUNCTION_ARGS)
{
	CreditsAccount account;
	CreditsHold hold;
	CreditsRedemption redemption;
	CreditsMovement movement;
	CreditsOperation operation = {0};
	CreditsAllocations moved;
	StringInfoData request;
	int64		account_id;
	int64		booking_id;
	TimestampTz starts_at;
	TimestampTz cancelled_at;
	TimestampTz now;
	Numeric		share_back;
	Numeric		returned;
	Numeric		kept;
	const char *rule;
	const char *booked_with;
	bool		has_service;
	int64		service_id;
	int64		operation_id;
	Datum		values[10];
	char		nulls[10];
	TupleDesc	descriptor;
	Datum		result_values[4];
	bool		result_nulls[4] = {false, false, false, false};
	Datum		result;
	MemoryContext result_context = CurrentMemoryContext;
	MemoryContext old;

	credits_require_arg(fcinfo, 0, "account_id");
	credits_require_arg(fcinfo, 1, "operation_or_hold_id");
	credits_require_arg(fcinfo, 2, "starts_at");
	credits_require_arg(fcinfo, 3, "cancelled_at");
	account_id = PG_GETARG_INT64(0);
	booking_id = PG_GETARG_INT64(1);
	starts_at = PG_GETARG_TIMESTAMPTZ(2);
	cancelled_at = PG_GETARG_TIMESTAMPTZ(3);
	credits_check_finite_time(starts_at, "starts_at");
	credits_check_finite_time(cancelled_at, "cancelled_at");
	if (get_call_result_type(fcinfo, NULL, &descriptor) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "cancel_booking must return a composite type");
	descriptor = BlessTupleDesc(descriptor);

	credits_request_start(&request, "cancel_booking");
	credits_request_add_int64(&request, "booking_id", false, booking_id);
	credits_request_add_time(&request, "starts_at", starts_at);
	credits_request_add_time(&request, "cancelled_at", cancelled_at);

	SPI_connect();
	credits_lock_account(account_id, false, &account);

	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(booking_id);
	if (credits_execute(&already_cancelled, values, NULL, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_ALREADY_CANCELLED),
				 errmsg("booking " INT64_FORMAT " of account " INT64_FORMAT " was already cancelled",
						booking_id, account_id)));

	now = credits_now();
	credits_allocations_init(&moved);
	operation.kind = "cancel_booking";
	operation.request = request.data;

	if (credits_read_hold(account_id, booking_id, &hold))
	{
		Numeric		capture;

		credits_require_open_hold(&hold);
		booked_with = "hold";
		has_service = hold.has_service;
		service_id = hold.service_id;
		rule = cancellation_rule(has_service, service_id, starts_at, cancelled_at, &share_back);
		returned = times(hold.amount, share_back);
		capture = credits_numeric_sub(hold.amount, returned);
		kept = capture;

		credits_movement_start(&movement, account_id, hold.credit_type,
							   credits_running_total(account_id, hold.credit_type), now);
		credits_close_hold(&movement, &hold, capture, &moved);
		operation.amount = capture;
		operation.hold_id = hold.hold_id;
		operation.membership_id = hold.membership_id;
		operation.has_service = has_service;
		operation.service_id = service_id;
		operation_id = credits_movement_finish(&movement, &operation);
		/* a membership hold is used (a visit) unless the cancellation is in time */
		credits_mark_hold_closed(&hold, capture,
								 !credits_numeric_is_zero(capture) ||
								 (hold.membership_id != 0 && strcmp(rule, "full_refund") != 0),
								 operation_id, now);
		if (hold.membership_id != 0 && strcmp(rule, "full_refund") != 0)
			credits_record_visit(account_id, operation_id, hold.membership_id,
								 service_id, hold.quantity, NULL, now);
	}
	else if (credits_read_redemption(account_id, booking_id, &redemption))
	{
		Numeric		refundable = credits_refundable(account_id, booking_id);

		booked_with = "redemption";
		has_service = redemption.has_service;
		service_id = redemption.service_id;
		rule = cancellation_rule(has_service, service_id, starts_at, cancelled_at, &share_back);
		returned = credits_numeric_min(times(redemption.amount, share_back), refundable);
		kept = credits_numeric_sub(redemption.amount, returned);

		credits_movement_start(&movement, account_id, redemption.credit_type,
							   credits_running_total(account_id, redemption.credit_type), now);
		if (!credits_numeric_is_zero(returned))
			credits_refund_into(&movement, booking_id, returned, &moved);
		operation.amount = returned;
		operation.refund_of = booking_id;
		operation.membership_id = redemption.membership_id;
		operation.has_service = has_service;
		operation.service_id = service_id;
		operation_id = credits_movement_finish(&movement, &operation);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_CREDITS_UNKNOWN_BOOKING),
				 errmsg("account " INT64_FORMAT " has no hold or redemption " INT64_FORMAT,
						account_id, booking_id)));

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(account_id);
	values[1] = Int64GetDatum(operation_id);
	values[2] = Int64GetDatum(booking_id);
	values[3] = CStringGetTextDatum(booked_with);
	values[4] = Int64GetDatum(service_id);
	nulls[4] = has_service ? ' ' : 'n';
	values[5] = TimestampTzGetDatum(starts_at);
	values[6] = TimestampTzGetDatum(cancelled_at);
	values[7] = CStringGetTextDatum(rule);
	values[8] = NumericGetDatum(returned);
	values[9] = NumericGetDatum(kept);
	credits_execute(&record_cancellation, values, nulls, 0);

	/* the result lives in the caller's memory, not SPI's */
	old = MemoryContextSwitchTo(result_context);
	result_values[0] = Int64GetDatum(operation_id);
	result_values[1] = DirectFunctionCall2(enum_in, CStringGetDatum(rule),
										   ObjectIdGetDatum(TupleDescAttr(descriptor, 1)->atttypid));
	result_values[2] = NumericGetDatum(DatumGetNumericCopy(NumericGetDatum(returned)));
	result_values[3] = NumericGetDatum(DatumGetNumericCopy(NumericGetDatum(kept)));
	result = HeapTupleGetDatum(heap_form_tuple(descriptor, result_values, result_nulls));
	MemoryContextSwitchTo(old);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
