/*-------------------------------------------------------------------------
 *
 * arguments.c
 *	  Checks on the arguments callers pass in, numeric helpers, and the
 *	  canonical text of a call that idempotent retries are compared by.
 *
 * A bad argument is reported before anything is locked or written:
 * 22004 for a missing value, 22023 for a value outside its domain,
 * 22003 for an amount beyond what the extension stores.  This file
 * takes no locks.
 *
 *-------------------------------------------------------------------------
 */
#include "credits.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* Amounts must be below this: 10^15 credits */
#define CREDITS_AMOUNT_LIMIT_TEXT "1000000000000000"

/*
 * Raises 22004 if a required argument is NULL.
 */
void
credits_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" of %s must not be null",
						name, get_func_name(fcinfo->flinfo->fn_oid))));
}

static Numeric
credits_amount_limit(void)
{
	static Numeric limit = NULL;

	if (limit == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		limit = DatumGetNumeric(DirectFunctionCall3(numeric_in,
													CStringGetDatum(CREDITS_AMOUNT_LIMIT_TEXT),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
		MemoryContextSwitchTo(old);
	}
	return limit;
}

Numeric
credits_numeric_zero(void)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return zero;
}

int
credits_numeric_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 NumericGetDatum(a),
											 NumericGetDatum(b)));
}

Numeric
credits_numeric_add(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add,
											   NumericGetDatum(a),
											   NumericGetDatum(b)));
}

Numeric
credits_numeric_sub(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_sub,
											   NumericGetDatum(a),
											   NumericGetDatum(b)));
}

Numeric
credits_numeric_min(Numeric a, Numeric b)
{
	return credits_numeric_cmp(a, b) <= 0 ? a : b;
}

bool
credits_numeric_is_zero(Numeric value)
{
	return credits_numeric_cmp(value, credits_numeric_zero()) == 0;
}

/* A number as people write it: 3, not 3.00 */
char *
credits_numeric_text(Numeric value)
{
	return numeric_normalize(value);
}

/*
 * An amount of credits must be a positive, finite number below 10^15.
 */
Numeric
credits_checked_amount(Numeric amount, const char *what)
{
	if (numeric_is_nan(amount))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a number, not NaN", what)));
	if (numeric_is_inf(amount))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite", what)));
	if (credits_numeric_cmp(amount, credits_numeric_zero()) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be greater than zero", what),
				 errdetail("The value given is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(amount))))));
	if (credits_numeric_cmp(amount, credits_amount_limit()) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("Amounts of credits must be less than %s.",
						   CREDITS_AMOUNT_LIMIT_TEXT)));
	return amount;
}

/*
 * A count of rows a call may process (max_batches): at least one.
 */
int64
credits_checked_max_rows(int32 value, const char *what)
{
	if (value < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least 1", what),
				 errdetail("The value given is %d.", value)));
	return value;
}

void
credits_check_finite_time(TimestampTz value, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite time", what)));
}

text *
credits_optional_text(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : PG_GETARG_TEXT_PP(argno);
}

/*
 * The moment a write path acts at: the wall clock once the account lock
 * is held, so that a batch past its expiry is never spent even by a
 * transaction that started before the batch expired.
 */
TimestampTz
credits_now(void)
{
	return GetCurrentTimestamp();
}

/*
 * The request text: the function's name and each argument as name=value,
 * text values prefixed with their length so that no two calls share one.
 * Numbers are normalized (5 and 5.00 are the same request).  A time equal
 * to the transaction's start, which is what a DEFAULT now() argument
 * gives, is left out, so that a retry in a later transaction with the
 * default still matches.
 */
void
credits_request_start(StringInfo request, const char *function)
{
	initStringInfo(request);
	appendStringInfoString(request, function);
}

void
credits_request_add_text(StringInfo request, const char *name, text *value)
{
	if (value == NULL)
		appendStringInfo(request, " %s=null", name);
	else
		appendStringInfo(request, " %s=%d:%.*s", name,
						 (int) VARSIZE_ANY_EXHDR(value),
						 (int) VARSIZE_ANY_EXHDR(value), VARDATA_ANY(value));
}

void
credits_request_add_int64(StringInfo request, const char *name, bool isnull,
						  int64 value)
{
	if (isnull)
		appendStringInfo(request, " %s=null", name);
	else
		appendStringInfo(request, " %s=" INT64_FORMAT, name, value);
}

void
credits_request_add_numeric(StringInfo request, const char *name, Numeric value)
{
	appendStringInfo(request, " %s=%s", name, numeric_normalize(value));
}

/*
 * Times are written in ISO 8601 in UTC, whatever the session's DateStyle
 * and TimeZone, so that the same moment always reads the same.
 */
void
credits_request_add_time(StringInfo request, const char *name, TimestampTz value)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		text[MAXDATELEN + 1];

	if (value == GetCurrentTransactionStartTimestamp())
		return;
	if (TIMESTAMP_NOT_FINITE(value))
		EncodeSpecialTimestamp(value, text);
	else if (timestamp2tm(value, NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		EncodeDateTime(&tm, fsec, false, 0, NULL, USE_XSD_DATES, text);
		strlcat(text, "Z", sizeof(text));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", name)));
	appendStringInfo(request, " %s=%s", name, text);
}

void
credits_request_add_int64_array(StringInfo request, const char *name,
								ArrayType *value)
{
	Datum	   *elements;
	bool	   *nulls;
	int			count;

	if (value == NULL)
	{
		appendStringInfo(request, " %s=null", name);
		return;
	}
	deconstruct_array(value, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elements, &nulls, &count);
	appendStringInfo(request, " %s={", name);
	for (int i = 0; i < count; i++)
		appendStringInfo(request, "%s" INT64_FORMAT, i > 0 ? "," : "",
						 DatumGetInt64(elements[i]));
	appendStringInfoChar(request, '}');
}

/*
 * A moment plus an interval counted as local date and time in a time zone,
 * so that "12 months" from 31 January lands on 31 January and "1 month"
 * from 1 March 00:30 on 1 April 00:30, whatever daylight saving did in
 * between.  22008 beyond the timestamp range.
 */
TimestampTz
credits_local_time_after(TimestampTz start, const Interval *length, const char *timezone)
{
	Datum		zone = CStringGetTextDatum(timezone);
	Datum		local;

	local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(start));
	local = DirectFunctionCall2(timestamp_pl_interval, local, IntervalPGetDatum(length));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, zone, local));
}
